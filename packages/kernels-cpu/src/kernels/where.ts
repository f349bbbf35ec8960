// where(cond, a, b): the three operands broadcast together over the output.
import { allocTyped, numel } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { takeF32 } from '../f32-array-pool.js';
import { broadcastStrides, denseStrides, forEachRow } from '../strided.js';

/** Picks a where cond is non-zero, else b. */
export const whereKernel: CpuKernel = ([cond, a, b], _attrs, out) => {
  const c = dataOf(cond!);
  const x = dataOf(a!);
  const y = dataOf(b!);
  const dst = out.dtype === 'f32' ? takeF32(numel(out.shape)) : allocTyped(out.dtype, numel(out.shape));
  const strides = [denseStrides(out.shape), broadcastStrides(cond!, out.shape), broadcastStrides(a!, out.shape), broadcastStrides(b!, out.shape)];
  forEachRow(out.shape, strides, [0, cond!.offset, a!.offset, b!.offset], (offs, n, inner) => {
    const [, sc, sa, sb] = inner as [number, number, number, number];
    let [o, ci, ai, bi] = offs as [number, number, number, number];
    for (let t = 0; t < n; t++, o++, ci += sc, ai += sa, bi += sb) dst[o] = c[ci] ? x[ai]! : y[bi]!;
  });
  return dst;
};
