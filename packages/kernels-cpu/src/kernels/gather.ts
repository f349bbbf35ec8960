// torch.gather: out[p] = x[p with p[axis] replaced by index[p]]. The walk runs over the index's
// shape; x is addressed with stride 0 on `axis` and the looked-up index adds the axis offset.
// An f16/bf16 x (the backend lists gather in `halfInputs`: an embedding table in bf16) is read as it
// is and each picked word widened, so a lookup never copies the whole table to f32.
import { numel } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { indexOutOfRange } from '../index-check.js';
import { halfValues } from '../wasm/half-values.js';
import { denseStrides, forEachRow } from '../strided.js';
import { copyRun } from './copy.js';

/** Picks elements of x along `axis` at the positions in `index` (same rank as x). */
export const gatherKernel: CpuKernel<{ axis: number }> = ([x, index], { axis }, out) => {
  const src = dataOf(x!);
  // The f32 value of each 16-bit word where x is half precision (the output is then f32).
  const widen = x!.dtype === 'f16' || x!.dtype === 'bf16' ? halfValues(x!.dtype) : null;
  const idx = dataOf(index!);
  const dst = resultArray(out.dtype, numel(out.shape));
  const size = x!.shape[axis]!;
  const axisStride = x!.strides[axis]!;
  const xStrides = x!.strides.map((s, i) => (i === axis ? 0 : s));
  forEachRow(out.shape, [denseStrides(out.shape), index!.strides, xStrides], [0, index!.offset, x!.offset], (offs, n, inner) => {
    const [, sIdx, sx] = inner as [number, number, number];
    let [o, p, q] = offs as [number, number, number];
    if (sIdx === 0 && widen === null) {
      // One index for the whole row (an embedding lookup: a row of the table per token): one check and one run copy.
      const k = idx[p]!;
      if (!(k >= 0 && k < size)) indexOutOfRange('gather', k, o, out.shape, axis, size);
      copyRun(dst, o, 1, src, q + k * axisStride, sx, n);
      return;
    }
    for (let t = 0; t < n; t++, o++, p += sIdx, q += sx) {
      const k = idx[p]!;
      if (!(k >= 0 && k < size)) indexOutOfRange('gather', k, o, out.shape, axis, size);
      dst[o] = widen ? widen[src[q + k * axisStride]!]! : src[q + k * axisStride]!;
    }
  });
  return dst;
};
