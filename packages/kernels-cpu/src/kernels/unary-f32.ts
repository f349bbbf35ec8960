// Row loops for the f32 unary ops, one function per op with its formula written inline. The table
// kernel in unary.ts calls its scalar function through one call site shared by every op
// (megamorphic: a call per element, no inlining); a loop per op stays monomorphic. Each computes in
// double and rounds once on store, exactly as the table kernel does, so results are identical.
import { OPS, type OpDef } from '@tessera/tensor';
import { erf } from '../erf.js';
import { sigmoid, softplus } from '../logistic.js';

/** Writes `n` results from `dst[o]`, reading `x` from `i` by `sx`. */
export type F32UnaryLoop = (dst: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number) => void;

function negRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = -v;
  }
}

function absRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.abs(v);
  }
}

function expRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.exp(v);
  }
}

function logRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.log(v);
  }
}

function log1pRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.log1p(v);
  }
}

function sqrtRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.sqrt(v);
  }
}

function rsqrtRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = 1 / Math.sqrt(v);
  }
}

function sinRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.sin(v);
  }
}

function cosRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.cos(v);
  }
}

function tanhRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = Math.tanh(v);
  }
}

function sigmoidRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = sigmoid(v);
  }
}

function reluRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = v > 0 || v !== v ? v : 0;
  }
}

function erfRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = erf(v);
  }
}

function softplusRow(d: Float32Array, o: number, x: Float32Array, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = softplus(v);
  }
}

/** The f32 row loop of each unary op that has one (clamp, sign and bool outputs use the table kernel). */
export const F32_UNARY_LOOPS: ReadonlyMap<OpDef, F32UnaryLoop> = new Map<OpDef, F32UnaryLoop>([
  [OPS.neg, negRow],
  [OPS.abs, absRow],
  [OPS.exp, expRow],
  [OPS.log, logRow],
  [OPS.log1p, log1pRow],
  [OPS.sqrt, sqrtRow],
  [OPS.rsqrt, rsqrtRow],
  [OPS.sin, sinRow],
  [OPS.cos, cosRow],
  [OPS.tanh, tanhRow],
  [OPS.sigmoid, sigmoidRow],
  [OPS.relu, reluRow],
  [OPS.erf, erfRow],
  [OPS.softplus, softplusRow],
]);
