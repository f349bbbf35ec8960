// Fused softmax and log-softmax along any axis, and their gradients (composites of @tessera/tensor):
// one lane at a time, in double precision, rounded once on store. The decompositions make four to
// six passes over the whole tensor with a temporary per pass; these make two or three over a lane.
import { fmtShape, numel, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { forEachLane } from '../lane-walk.js';
import { broadcastStrides, denseStrides } from '../strided.js';

/** The lane's largest value; NaN when any element is NaN (as max reduces). */
export function laneMax(x: TypedArray, i: number, s: number, n: number): number {
  let m = -Infinity;
  for (let t = 0; t < n; t++, i += s) {
    const v = x[i]!;
    if (v > m || v !== v) m = v;
  }
  return m;
}

/** How a kernel sums exp(x - m) over a lane (the TypeScript loop, or the WebAssembly SIMD one: softmax-wasm.ts). */
export type SumExp = (x: TypedArray, i: number, s: number, n: number, m: number) => number;

/** sum over the lane of exp(x - m). */
export function laneSumExp(x: TypedArray, i: number, s: number, n: number, m: number): number {
  let sum = 0;
  for (let t = 0; t < n; t++, i += s) sum += Math.exp(x[i]! - m);
  return sum;
}

/** Operands' strides and starts over the output shape, output first (dense). */
export function layout(views: readonly TensorView[], shape: readonly number[]): { strides: number[][]; starts: number[] } {
  return { strides: [denseStrides(shape), ...views.map((v) => broadcastStrides(v, shape))], starts: [0, ...views.map((v) => v.offset)] };
}

type AxisAttrs = { axis: number };

/** The lane length; an empty one is an error, as the decomposition's max over an empty dim is. */
function laneLength(op: string, shape: readonly number[], axis: number): number {
  const n = shape[axis]!;
  if (n === 0) throw new RangeError(`${op}: cannot normalise over an empty dim (shape ${fmtShape(shape)}, axis ${axis}); the row max is undefined there`);
  return n;
}

/** softmax(x) = exp(x - max) / sum(exp(x - max)) along `axis`. */
export const softmaxKernelWith = (sumExp: SumExp): CpuKernel<AxisAttrs> => ([x], { axis }, out) => {
  const src = dataOf(x!);
  const dst = resultArray(out.dtype, numel(out.shape));
  const { strides, starts } = layout([x!], out.shape);
  const n = laneLength('softmax', out.shape, axis);
  const so = strides[0]![axis]!;
  const sx = strides[1]![axis]!;
  forEachLane(out.shape, axis, strides, starts, ([o, i]) => {
    const m = laneMax(src, i!, sx, n);
    const inv = 1 / sumExp(src, i!, sx, n, m);
    for (let t = 0, p = o!, q = i!; t < n; t++, p += so, q += sx) dst[p] = Math.exp(src[q]! - m) * inv;
  });
  return dst;
};

/** logSoftmax(x) = (x - max) - log(sum(exp(x - max))) along `axis`. */
export const logSoftmaxKernelWith = (sumExp: SumExp): CpuKernel<AxisAttrs> => ([x], { axis }, out) => {
  const src = dataOf(x!);
  const dst = resultArray(out.dtype, numel(out.shape));
  const { strides, starts } = layout([x!], out.shape);
  const n = laneLength('logSoftmax', out.shape, axis);
  const so = strides[0]![axis]!;
  const sx = strides[1]![axis]!;
  forEachLane(out.shape, axis, strides, starts, ([o, i]) => {
    const m = laneMax(src, i!, sx, n);
    const lse = Math.log(sumExp(src, i!, sx, n, m));
    for (let t = 0, p = o!, q = i!; t < n; t++, p += so, q += sx) dst[p] = src[q]! - m - lse;
  });
  return dst;
};

/** softmax's gradient: s * (dy - sum(dy * s)), s = softmax(x), along `axis`. */
export const softmaxBackwardKernelWith = (sumExp: SumExp): CpuKernel<AxisAttrs> => ([x, dy], { axis }, out) => {
  const src = dataOf(x!);
  const g = dataOf(dy!);
  const dst = resultArray(out.dtype, numel(out.shape));
  const { strides, starts } = layout([x!, dy!], out.shape);
  const n = laneLength('softmaxBackward', out.shape, axis);
  const [so, sx, sg] = strides.map((s) => s[axis]!) as [number, number, number];
  forEachLane(out.shape, axis, strides, starts, ([o, i, j]) => {
    const m = laneMax(src, i!, sx, n);
    const inv = 1 / sumExp(src, i!, sx, n, m);
    let dot = 0;
    for (let t = 0, q = i!, r = j!; t < n; t++, q += sx, r += sg) dot += g[r]! * Math.exp(src[q]! - m) * inv;
    for (let t = 0, p = o!, q = i!, r = j!; t < n; t++, p += so, q += sx, r += sg) dst[p] = Math.exp(src[q]! - m) * inv * (g[r]! - dot);
  });
  return dst;
};

/** logSoftmax's gradient: dy - softmax(x) * sum(dy), along `axis`. */
export const logSoftmaxBackwardKernelWith = (sumExp: SumExp): CpuKernel<AxisAttrs> => ([x, dy], { axis }, out) => {
  const src = dataOf(x!);
  const g = dataOf(dy!);
  const dst = resultArray(out.dtype, numel(out.shape));
  const { strides, starts } = layout([x!, dy!], out.shape);
  const n = laneLength('logSoftmaxBackward', out.shape, axis);
  const [so, sx, sg] = strides.map((s) => s[axis]!) as [number, number, number];
  forEachLane(out.shape, axis, strides, starts, ([o, i, j]) => {
    const m = laneMax(src, i!, sx, n);
    const inv = 1 / sumExp(src, i!, sx, n, m);
    let total = 0;
    for (let t = 0, r = j!; t < n; t++, r += sg) total += g[r]!;
    for (let t = 0, p = o!, q = i!, r = j!; t < n; t++, p += so, q += sx, r += sg) dst[p] = g[r]! - Math.exp(src[q]! - m) * inv * total;
  });
  return dst;
};

// The kernels with the plain TypeScript lane sum (the registry's; a backend with WebAssembly swaps in softmax-wasm.ts's).
export const softmaxKernel = softmaxKernelWith(laneSumExp);
export const logSoftmaxKernel = logSoftmaxKernelWith(laneSumExp);
export const softmaxBackwardKernel = softmaxBackwardKernelWith(laneSumExp);
export const logSoftmaxBackwardKernel = logSoftmaxBackwardKernelWith(laneSumExp);
