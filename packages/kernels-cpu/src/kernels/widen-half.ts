// An f16/bf16 view widened to an f32 copy of its storage, for kernels that read half-precision
// inputs directly on their fast path but not on every path (matmul's small products).
import type { TensorView } from '@tessera/tensor';
import { halfValues } from '../wasm/half-values.js';

/** `view` itself unless it is f16/bf16; then the same layout over an f32 copy of its storage. */
export function widenHalf(view: TensorView): TensorView {
  if (view.dtype !== 'f16' && view.dtype !== 'bf16') return view;
  const words = view.storage.data as Uint16Array;
  const table = halfValues(view.dtype);
  const data = new Float32Array(words.length);
  for (let i = 0; i < words.length; i++) data[i] = table[words[i]!]!;
  return { ...view, dtype: 'f32', storage: { ...view.storage, dtype: 'f32', byteLength: data.length * 4, data } };
}
