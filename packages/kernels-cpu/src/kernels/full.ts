import { numel, type DType, type Shape } from '@tessera/tensor';
import { storeFor, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';

/** A new array of `shape` holding `value` everywhere (fill() writes every element, so f32 ones may be recycled). */
export const fullKernel: CpuKernel<{ shape: Shape; value: number; dtype: DType }> = (_inputs, { value }, out) =>
  resultArray(out.dtype, numel(out.shape)).fill(storeFor(out.dtype)(value));
