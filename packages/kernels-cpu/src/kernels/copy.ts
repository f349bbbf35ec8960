import { allocTyped, numel, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { takeF32 } from '../f32-array-pool.js';
import { denseStrides, forEachRow } from '../strided.js';

/** Copies a strided view's elements (raw, no conversion) into `dst` laid out with `dstStrides` from `dstOffset`. */
export function copyStrided(src: TensorView, dst: TypedArray, dstStrides: readonly number[], dstOffset: number): void {
  const data = dataOf(src);
  forEachRow(src.shape, [dstStrides, src.strides], [dstOffset, src.offset], (offs, n, inner) => {
    const so = inner[0]!;
    const si = inner[1]!;
    let o = offs[0]!;
    let i = offs[1]!;
    if (so === 1 && si === 1) dst.set(data.subarray(i, i + n), o);
    else for (let t = 0; t < n; t++, o += so, i += si) dst[o] = data[i]!;
  });
}

/** A dense row-major copy of any strided view. */
export const copyKernel: CpuKernel = ([x], _attrs, out) => {
  const dst = out.dtype === 'f32' ? takeF32(numel(out.shape)) : allocTyped(out.dtype, numel(out.shape));
  copyStrided(x!, dst, denseStrides(out.shape), 0);
  return dst;
};
