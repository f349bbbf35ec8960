// What a gpu.js kernel of this backend is: inputs as strided views over handles, one new handle out.
import type { OutputSpec, TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from './gpujs-context.js';

/** Computes one op: the output is a fresh contiguous handle of f32 values (out.dtype is always f32 here). */
export type GpuJsKernel<A = any> = (ctx: GpuJsContext, inputs: readonly TensorView[], attrs: A, out: OutputSpec) => Handle;

/** The handle a view's storage holds. */
export function handleOf(view: TensorView): Handle {
  const handle = view.storage.data as Handle | null;
  if (handle === null || handle.freed) throw new Error(`gpujs: storage of ${view.storage.size} ${view.storage.dtype} elements was already freed`);
  return handle;
}
