// What a gpu.js kernel of this backend is: inputs as strided views over handles, one new handle out.
import { contiguousStrides, type OutputSpec, type Shape, type Storage, type TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from './gpujs-context.js';

/** Computes one op: the output is a fresh contiguous handle of f32 values (out.dtype is always f32 here). */
export type GpuJsKernel<A = any> = (ctx: GpuJsContext, inputs: readonly TensorView[], attrs: A, out: OutputSpec) => Handle;

/** The handle a storage holds; throws for a freed storage (a disposed tensor used again). */
export function handleOfStorage(storage: Storage): Handle {
  const handle = storage.data as Handle | null;
  if (handle === null || handle.freed) throw new Error(`gpujs: storage of ${storage.size} ${storage.dtype} elements was already freed`);
  return handle;
}

/** The handle a view's storage holds. */
export function handleOf(view: TensorView): Handle {
  return handleOfStorage(view.storage);
}

/**
 * A contiguous f32 view over a handle a kernel made itself (a row statistic, a partial result), to
 * pass it to launchMap as an input. No storage is freed through it: the kernel frees the handle.
 */
export function viewOfHandle(handle: Handle, shape: Shape): TensorView {
  const storage = { backend: null as never, dtype: 'f32' as const, size: handle.size, byteLength: handle.size * 4, data: handle, refs: 1 };
  return { storage, shape, strides: contiguousStrides(shape), offset: 0, dtype: 'f32' };
}
