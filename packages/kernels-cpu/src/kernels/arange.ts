import { allocTyped, type DType } from '@tessera/tensor';
import { storeFor, type CpuKernel } from '../cpu-kernel.js';

/** start, start + step, ... (`size` values); each is start + i * step, so no error accumulates. */
export const arangeKernel: CpuKernel<{ start: number; step: number; size: number; dtype: DType }> = (_inputs, { start, step, size }, out) => {
  const dst = allocTyped(out.dtype, size);
  const store = storeFor(out.dtype);
  for (let i = 0; i < size; i++) dst[i] = store(start + i * step);
  return dst;
};
