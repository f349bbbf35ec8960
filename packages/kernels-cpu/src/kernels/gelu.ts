// Fused GELU and its input gradient (composites of @tessera/tensor): one pass over the elements in
// double precision, rounded once on store, where the decompositions run ~9 ops (forward) and ~12
// (gradient), each a full pass and a result array. The tanh form goes through the logistic function,
// 0.5 (1 + tanh u) = s = sigmoid(2u) and 1 - tanh^2 u = 4 s (1 - s), so an element costs one exp.
import { numel, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { erf } from '../erf.js';
import { resultArray } from '../f32-array-pool.js';
import { broadcastStrides, denseStrides, forEachRow } from '../strided.js';
import { fastExp } from './fast-exp.js';

type GeluAttrs = { approximate: 'none' | 'tanh' };

/** sqrt(2 / pi) and the cubic coefficient of GPT-2's tanh form; 1 / sqrt(2 pi) for the normal density. */
const TANH_SCALE = 0.7978845608028654;
const TANH_CUBIC = 0.044715;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// Only ever called with Float32Arrays (checked by the kernels), so their element accesses stay monomorphic.
function geluTanhRowF32(d: TypedArray, o: number, x: TypedArray, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = v / (1 + fastExp(-2 * TANH_SCALE * v * (1 + TANH_CUBIC * v * v)));
  }
}

function geluTanhBackwardRowF32(d: TypedArray, o: number, x: TypedArray, i: number, sx: number, g: TypedArray, j: number, sg: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx, j += sg) {
    const v = x[i]!;
    const v2 = v * v;
    const s = 1 / (1 + fastExp(-2 * TANH_SCALE * v * (1 + TANH_CUBIC * v2)));
    d[o] = g[j]! * (s + 2 * v * s * (1 - s) * TANH_SCALE * (1 + 3 * TANH_CUBIC * v2));
  }
}

function geluTanhRow(d: TypedArray, o: number, x: TypedArray, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    const u = TANH_SCALE * v * (1 + TANH_CUBIC * v * v);
    d[o] = v / (1 + Math.exp(-2 * u));
  }
}

function geluErfRow(d: TypedArray, o: number, x: TypedArray, i: number, sx: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx) {
    const v = x[i]!;
    d[o] = 0.5 * v * (1 + erf(v * Math.SQRT1_2));
  }
}

function geluTanhBackwardRow(d: TypedArray, o: number, x: TypedArray, i: number, sx: number, g: TypedArray, j: number, sg: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx, j += sg) {
    const v = x[i]!;
    const v2 = v * v;
    const s = 1 / (1 + Math.exp(-2 * TANH_SCALE * v * (1 + TANH_CUBIC * v2)));
    d[o] = g[j]! * (s + 2 * v * s * (1 - s) * TANH_SCALE * (1 + 3 * TANH_CUBIC * v2));
  }
}

function geluErfBackwardRow(d: TypedArray, o: number, x: TypedArray, i: number, sx: number, g: TypedArray, j: number, sg: number, n: number): void {
  for (const end = o + n; o < end; o++, i += sx, j += sg) {
    const v = x[i]!;
    d[o] = g[j]! * (0.5 * (1 + erf(v * Math.SQRT1_2)) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI);
  }
}

/** gelu(x), exact or tanh form. */
export const geluKernel: CpuKernel<GeluAttrs> = ([x], { approximate }, out) => {
  const dst = resultArray(out.dtype, numel(out.shape));
  const src = dataOf(x!);
  const f32 = dst instanceof Float32Array && src instanceof Float32Array;
  const row = approximate === 'tanh' ? (f32 ? geluTanhRowF32 : geluTanhRow) : geluErfRow;
  forEachRow(out.shape, [denseStrides(out.shape), broadcastStrides(x!, out.shape)], [0, x!.offset], (offs, n, inner) => {
    row(dst, offs[0]!, src, offs[1]!, inner[1]!, n);
  });
  return dst;
};

/** dy * gelu'(x), exact or tanh form; x and dy broadcast to the output's shape. */
export const geluBackwardKernel: CpuKernel<GeluAttrs> = (inputs, { approximate }, out) => {
  const [x, dy] = inputs as [TensorView, TensorView];
  const dst = resultArray(out.dtype, numel(out.shape));
  const xs = dataOf(x);
  const gs = dataOf(dy);
  const f32 = dst instanceof Float32Array && xs instanceof Float32Array && gs instanceof Float32Array;
  const row = approximate === 'tanh' ? (f32 ? geluTanhBackwardRowF32 : geluTanhBackwardRow) : geluErfBackwardRow;
  const strides = [denseStrides(out.shape), broadcastStrides(x, out.shape), broadcastStrides(dy, out.shape)];
  forEachRow(out.shape, strides, [0, x.offset, dy.offset], (offs, n, inner) => {
    row(dst, offs[0]!, xs, offs[1]!, inner[1]!, gs, offs[2]!, inner[2]!, n);
  });
  return dst;
};
