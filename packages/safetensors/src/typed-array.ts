import type { Dtype } from './dtypes.js';
import { dtypeByteSize } from './dtypes.js';
import { SafetensorsError } from './errors.js';

/** The typed array each dtype reads into; F16/BF16 (and the F8 kinds) come back as raw bits. */
export interface TypedArrayByDtype {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  F8_E5M2: Uint8Array;
  F8_E4M3: Uint8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

/** Any typed array `toTypedArray` can return. */
export type SafetensorsTypedArray = TypedArrayByDtype[Dtype];

type Ctor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => SafetensorsTypedArray;

const CTORS: Record<Dtype, Ctor> = {
  BOOL: Uint8Array,
  U8: Uint8Array,
  I8: Int8Array,
  F8_E5M2: Uint8Array,
  F8_E4M3: Uint8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

/**
 * Refuses data whose typed-array kind cannot hold `dtype`'s elements: raw bytes (Uint8Array,
 * Uint8ClampedArray, DataView) fit any dtype, otherwise the array must be the kind `toTypedArray`
 * returns for it (Float32Array for F32, Uint16Array bits for F16/BF16, ...). Matching byte counts
 * alone would let a Float64Array pass as F32 with half as many elements.
 */
export function checkViewKind(dtype: Dtype, view: ArrayBufferView, where: string): void {
  if (view instanceof Uint8Array || view instanceof Uint8ClampedArray || view instanceof DataView) return;
  const want = CTORS[dtype];
  if (view instanceof want) return;
  // F16/BF16 take bit patterns: Uint16Array.from(floats) would truncate the values to integers.
  const fix =
    dtype === 'F16' || dtype === 'BF16'
      ? `round the values to ${dtype} bit patterns, e.g. Uint16Array.from(data, ${dtype === 'F16' ? 'f32ToF16' : 'f32ToBf16'}) with ${dtype === 'F16' ? 'f32ToF16' : 'f32ToBf16'} from @tessera/tensor`
      : `convert the values, e.g. ${want.name}.from(data)`;
  throw new SafetensorsError(`${where}: data is a ${view.constructor.name} but dtype ${dtype} takes a ${want.name} (or raw bytes as a Uint8Array); ${fix}, or give the right dtype`);
}

/** True on the (rare) big-endian hosts, where typed arrays do not read the file's little-endian bytes as is. */
export const HOST_IS_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/** Reverses the bytes of each `size`-byte element of `bytes` in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/**
 * Views `data` (little-endian bytes of `dtype`) as its natural typed array. No copy when the
 * bytes start at a multiple of the element size (typed arrays require that); a copy otherwise,
 * and always on big-endian hosts, where the bytes must be swapped.
 */
export function bytesToTypedArray<D extends Dtype>(dtype: D, data: Uint8Array): TypedArrayByDtype[D] {
  const size = dtypeByteSize(dtype);
  const Ctor = CTORS[dtype];
  let bytes = data;
  if (data.byteOffset % size !== 0 || (HOST_IS_BIG_ENDIAN && size > 1)) {
    // new Uint8Array(view) copies into a fresh, aligned ArrayBuffer; a Node Buffer's slice() would not copy.
    bytes = new Uint8Array(data);
    if (HOST_IS_BIG_ENDIAN && size > 1) swapBytes(bytes, size);
  }
  return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size) as TypedArrayByDtype[D];
}

/**
 * The little-endian bytes of a typed array or other buffer view: a view of the same memory,
 * except on big-endian hosts where multi-byte elements are swapped into a copy.
 */
export function viewToLittleEndianBytes(view: ArrayBufferView): Uint8Array {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const size = (view as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  if (!HOST_IS_BIG_ENDIAN || size === 1) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, size);
  return copy;
}
