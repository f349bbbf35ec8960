// What a CPU kernel is: a function from strided input views to a fresh typed array. The backend
// wraps the array into a Storage, so kernels never need a reference to the backend itself.
import type { DType, OutputSpec, TensorView, TypedArray } from '@tessera/tensor';

/** A CPU kernel: computes the op's output elements as a new contiguous typed array. */
export type CpuKernel<A = any> = (inputs: readonly TensorView[], attrs: A, out: OutputSpec) => TypedArray;

/** The typed array behind a view's storage (CPU storages hold their elements directly). */
export function dataOf(view: TensorView): TypedArray {
  return view.storage.data as TypedArray;
}

/** A function that stores a computed number into an element of `dtype` (bool stores != 0 as 1). */
export function storeFor(dtype: DType): (v: number) => number {
  // Integer typed arrays already truncate and wrap on assignment; bool must become 0/1, NaN included.
  return dtype === 'bool' ? (v) => (v !== 0 ? 1 : 0) : (v) => v;
}
