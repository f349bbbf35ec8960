// Row loops for the f32 arithmetic binary ops, one function per op with the operator written inline.
// The table kernel in binary.ts calls its scalar function through one shared call site, which V8
// sees with every op's function (megamorphic: no inlining, a call per element); a loop per op stays
// monomorphic. Each loop specialises the strides that dominate a training step: both operands
// stepping by one (dense or row-broadcast rows), one operand fixed (a scalar, a column broadcast),
// and otherwise any pair of strides. f32 + - * / computed in double and rounded once on store equal
// the f32 operation, so results are bit-identical to the table kernel.
import { OPS, type OpDef } from '@tessera/tensor';

/** Writes `n` results from `dst[o]`, reading `x` from `i` by `sx` and `y` from `j` by `sy`. */
export type F32RowLoop = (dst: Float32Array, o: number, x: Float32Array, i: number, sx: number, y: Float32Array, j: number, sy: number, n: number) => void;

function addRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, y: Float32Array, j: number, sy: number, n: number): void {
  const end = o + n;
  if (sx === 1 && sy === 1) for (; o < end; o++, i++, j++) d[o] = x[i]! + y[j]!;
  else if (sy === 0) for (const b = y[j]!; o < end; o++, i += sx) d[o] = x[i]! + b;
  else if (sx === 0) for (const a = x[i]!; o < end; o++, j += sy) d[o] = a + y[j]!;
  else for (; o < end; o++, i += sx, j += sy) d[o] = x[i]! + y[j]!;
}

function subRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, y: Float32Array, j: number, sy: number, n: number): void {
  const end = o + n;
  if (sx === 1 && sy === 1) for (; o < end; o++, i++, j++) d[o] = x[i]! - y[j]!;
  else if (sy === 0) for (const b = y[j]!; o < end; o++, i += sx) d[o] = x[i]! - b;
  else if (sx === 0) for (const a = x[i]!; o < end; o++, j += sy) d[o] = a - y[j]!;
  else for (; o < end; o++, i += sx, j += sy) d[o] = x[i]! - y[j]!;
}

function mulRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, y: Float32Array, j: number, sy: number, n: number): void {
  const end = o + n;
  if (sx === 1 && sy === 1) for (; o < end; o++, i++, j++) d[o] = x[i]! * y[j]!;
  else if (sy === 0) for (const b = y[j]!; o < end; o++, i += sx) d[o] = x[i]! * b;
  else if (sx === 0) for (const a = x[i]!; o < end; o++, j += sy) d[o] = a * y[j]!;
  else for (; o < end; o++, i += sx, j += sy) d[o] = x[i]! * y[j]!;
}

function divRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, y: Float32Array, j: number, sy: number, n: number): void {
  const end = o + n;
  if (sx === 1 && sy === 1) for (; o < end; o++, i++, j++) d[o] = x[i]! / y[j]!;
  else if (sy === 0) for (const b = y[j]!; o < end; o++, i += sx) d[o] = x[i]! / b;
  else if (sx === 0) for (const a = x[i]!; o < end; o++, j += sy) d[o] = a / y[j]!;
  else for (; o < end; o++, i += sx, j += sy) d[o] = x[i]! / y[j]!;
}

// Math.max/min propagate NaN, as torch.maximum/minimum (and the table kernel) do.
function maximumRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, y: Float32Array, j: number, sy: number, n: number): void {
  const end = o + n;
  if (sy === 0) for (const b = y[j]!; o < end; o++, i += sx) d[o] = Math.max(x[i]!, b);
  else for (; o < end; o++, i += sx, j += sy) d[o] = Math.max(x[i]!, y[j]!);
}

function minimumRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, y: Float32Array, j: number, sy: number, n: number): void {
  const end = o + n;
  if (sy === 0) for (const b = y[j]!; o < end; o++, i += sx) d[o] = Math.min(x[i]!, b);
  else for (; o < end; o++, i += sx, j += sy) d[o] = Math.min(x[i]!, y[j]!);
}

/** The f32 row loop of each binary op that has one (the others run through the table kernel). */
export const F32_ROW_LOOPS: ReadonlyMap<OpDef, F32RowLoop> = new Map<OpDef, F32RowLoop>([
  [OPS.add, addRow],
  [OPS.sub, subRow],
  [OPS.mul, mulRow],
  [OPS.div, divRow],
  [OPS.maximum, maximumRow],
  [OPS.minimum, minimumRow],
]);
