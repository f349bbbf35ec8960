import { numel } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { denseStrides } from '../strided.js';
import { copyStrided } from './copy.js';

/**
 * Joins any number of inputs along `axis` by copying each into its slab of the output. The slabs
 * tile the output, so every element is written and an f32 result may be a recycled array.
 */
export const concatKernel: CpuKernel<{ axis: number }> = (inputs, { axis }, out) => {
  const dst = resultArray(out.dtype, numel(out.shape));
  const strides = denseStrides(out.shape);
  let start = 0;
  for (const x of inputs) {
    copyStrided(x, dst, strides, start * strides[axis]!);
    start += x.shape[axis]!;
  }
  return dst;
};
