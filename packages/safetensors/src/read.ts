import type { Dtype } from './dtypes.js';
import { parseHeader } from './header.js';
import { type TypedArrayByDtype, bytesToTypedArray } from './typed-array.js';

/** One tensor: its dtype, shape and little-endian bytes. */
export interface SafetensorsTensor<D extends Dtype = Dtype> {
  /** Element type. */
  readonly dtype: D;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** The raw little-endian bytes, row-major. */
  readonly data: Uint8Array;
}

/** A whole safetensors file in memory. */
export interface Safetensors {
  /** The `__metadata__` string map (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors by name, in file order. */
  readonly tensors: Map<string, SafetensorsTensor>;
}

/**
 * Parses a whole safetensors file held in memory. Each tensor's `data` is a view into `bytes`
 * (no copy), so it stays valid only while `bytes` is not modified.
 */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer): Safetensors {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const header = parseHeader(u8);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, info] of header.tensors) {
    const [b, e] = info.dataOffsets;
    tensors.set(name, {
      dtype: info.dtype,
      shape: info.shape,
      data: u8.subarray(header.dataStart + b, header.dataStart + e),
    });
  }
  return { metadata: header.metadata, tensors };
}

/**
 * The tensor's elements as their natural typed array (Float32Array for F32, BigInt64Array for
 * I64, raw Uint16Array bits for F16/BF16, Uint8Array for BOOL...). A view when the bytes are
 * aligned for that array type, else a copy.
 */
export function toTypedArray<D extends Dtype>(tensor: { readonly dtype: D; readonly data: Uint8Array }): TypedArrayByDtype[D] {
  return bytesToTypedArray(tensor.dtype, tensor.data);
}
