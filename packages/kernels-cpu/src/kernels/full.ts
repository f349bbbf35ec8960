import { allocTyped, numel, type DType, type Shape } from '@tessera/tensor';
import { storeFor, type CpuKernel } from '../cpu-kernel.js';

/** A new array of `shape` holding `value` everywhere. */
export const fullKernel: CpuKernel<{ shape: Shape; value: number; dtype: DType }> = (_inputs, { value }, out) =>
  allocTyped(out.dtype, numel(out.shape)).fill(storeFor(out.dtype)(value));
