import { allocTyped, numel } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { denseStrides } from '../strided.js';
import { copyStrided } from './copy.js';

/** Joins any number of inputs along `axis` by copying each into its slab of the output. */
export const concatKernel: CpuKernel<{ axis: number }> = (inputs, { axis }, out) => {
  const dst = allocTyped(out.dtype, numel(out.shape));
  const strides = denseStrides(out.shape);
  let start = 0;
  for (const x of inputs) {
    copyStrided(x, dst, strides, start * strides[axis]!);
    start += x.shape[axis]!;
  }
  return dst;
};
