import { SafetensorsError, describeValue } from './errors.js';

/**
 * Every dtype this package reads. The order is the Rust crate's `Dtype` enum order (increasing
 * alignment); the writer sorts tensors by this order, descending, so the layout matches files
 * written by the reference implementation byte for byte.
 */
export const DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
] as const;

/** A safetensors dtype name as it appears in the header. */
export type Dtype = (typeof DTYPES)[number];

const BYTE_SIZES: Record<Dtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

const RANK = new Map<string, number>(DTYPES.map((d, i) => [d, i]));

/** True when `value` names a dtype this package knows. */
export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && RANK.has(value);
}

/** Bytes per element of `dtype`. */
export function dtypeByteSize(dtype: Dtype): number {
  return BYTE_SIZES[dtype];
}

/** Position of `dtype` in the reference enum order; the writer lays out higher ranks first. */
export function dtypeRank(dtype: Dtype): number {
  return RANK.get(dtype)!;
}

/** Throws a `SafetensorsError` naming `where` unless `value` is a known dtype. */
export function assertDtype(value: unknown, where: string): asserts value is Dtype {
  if (!isDtype(value)) {
    throw new SafetensorsError(
      `${where}: dtype ${describeValue(value)} is not one of ${DTYPES.join(', ')}`,
    );
  }
}

/**
 * Number of elements of `shape`, or a `SafetensorsError` when a dimension is not a non-negative
 * safe integer or the product leaves the range where doubles count exactly (2^53).
 */
export function shapeSize(shape: readonly unknown[], where: string): number {
  let hasZero = false;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new SafetensorsError(
        `${where}: shape ${describeValue(shape)} has dimension ${i} = ${describeValue(d)}; expected a non-negative integer`,
      );
    }
    if (d === 0) hasZero = true;
  }
  // A zero anywhere makes the tensor empty, however large the other dimensions are.
  if (hasZero) return 0;
  let n = 1;
  for (const d of shape as number[]) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) {
      throw new SafetensorsError(`${where}: shape ${describeValue(shape)} has more than 2^53 elements`);
    }
  }
  return n;
}
