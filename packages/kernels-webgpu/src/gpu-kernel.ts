// What a WebGPU kernel is: strided input views in, a fresh GPU buffer holding the contiguous output
// out. The backend wraps the buffer into a Storage.
import type { OutputSpec, TensorView } from '@tessera/tensor';
import type { GpuContext } from './gpu-context.js';

/** A WebGPU kernel: records its dispatches on `ctx` and returns the output buffer. */
export type GpuKernel<A = any> = (ctx: GpuContext, inputs: readonly TensorView[], attrs: A, out: OutputSpec) => GPUBuffer;
