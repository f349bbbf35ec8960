/** Element types a tensor can hold. f16 and bf16 are storage types; backends without them compute in f32. */
export type DType = 'f32' | 'f64' | 'f16' | 'bf16' | 'i32' | 'u32' | 'u8' | 'bool';

/** Every dtype, in promotion order within each kind. */
export const DTYPES: readonly DType[] = ['bool', 'u8', 'i32', 'u32', 'f16', 'bf16', 'f32', 'f64'];

/** The typed array a dtype's elements live in on the CPU. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

const BYTES: Record<DType, number> = { f32: 4, f64: 8, f16: 2, bf16: 2, i32: 4, u32: 4, u8: 1, bool: 1 };

/** Bytes per element. */
export function dtypeBytes(dtype: DType): number {
  return BYTES[dtype];
}

/** True for the floating-point dtypes (the ones gradients flow through). */
export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f64' || dtype === 'f16' || dtype === 'bf16';
}

/** True for the integer dtypes (bool excluded). */
export function isInt(dtype: DType): boolean {
  return dtype === 'i32' || dtype === 'u32' || dtype === 'u8';
}

/** Throws a clear error when `value` is not a dtype name. */
export function assertDType(value: unknown, where: string): asserts value is DType {
  if (typeof value !== 'string' || !(DTYPES as readonly string[]).includes(value)) {
    throw new TypeError(`${where}: unknown dtype ${JSON.stringify(value)}; expected one of ${DTYPES.join(', ')}`);
  }
}

/** Allocates a zeroed typed array for `size` elements of `dtype` (f16/bf16 as raw 16-bit words). */
export function allocTyped(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(size);
    case 'f64':
      return new Float64Array(size);
    case 'f16':
    case 'bf16':
      return new Uint16Array(size);
    case 'i32':
      return new Int32Array(size);
    case 'u32':
      return new Uint32Array(size);
    case 'u8':
    case 'bool':
      return new Uint8Array(size);
  }
}

/**
 * The dtype of a binary op's result, following PyTorch: floats win over integers, wider floats
 * over narrower; f16 with bf16 gives f32; bool with anything gives the other.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'bool') return b;
  if (b === 'bool') return a;
  const fa = isFloat(a);
  const fb = isFloat(b);
  if (fa && !fb) return a;
  if (fb && !fa) return b;
  if (fa && fb) {
    if (a === 'f64' || b === 'f64') return 'f64';
    return 'f32';
  }
  // both integers
  if ((a === 'u8' && b === 'i32') || (a === 'i32' && b === 'u8')) return 'i32';
  if ((a === 'u8' && b === 'u32') || (a === 'u32' && b === 'u8')) return 'u32';
  return 'i32';
}

const f32Buf = new Float32Array(1);
const u32Buf = new Uint32Array(f32Buf.buffer);

/** Rounds an f32 value to bf16 (round to nearest even), returning the 16-bit pattern. */
export function f32ToBf16(value: number): number {
  f32Buf[0] = value;
  const bits = u32Buf[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return (bits >>> 16) | 0x0040; // keep NaN a NaN
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Expands a bf16 bit pattern to its f32 value. */
export function bf16ToF32(bits: number): number {
  u32Buf[0] = bits << 16;
  return f32Buf[0]!;
}

/** Rounds a number to IEEE half precision (round to nearest even), returning the 16-bit pattern. */
export function f32ToF16(value: number): number {
  f32Buf[0] = value;
  const x = u32Buf[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow to signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent: correct
  return half;
}

/** Expands an IEEE half bit pattern to its value. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Reads logical element values of any dtype into a Float64Array-like number list. */
export function toNumbers(dtype: DType, data: TypedArray): Float64Array {
  const out = new Float64Array(data.length);
  if (dtype === 'f16') for (let i = 0; i < data.length; i++) out[i] = f16ToF32(data[i]!);
  else if (dtype === 'bf16') for (let i = 0; i < data.length; i++) out[i] = bf16ToF32(data[i]!);
  else for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  return out;
}

/** Writes numbers into a typed array of `dtype`, converting (rounding f16/bf16, 0/1 for bool). */
export function fromNumbers(dtype: DType, values: ArrayLike<number>): TypedArray {
  const out = allocTyped(dtype, values.length);
  if (dtype === 'f16') for (let i = 0; i < values.length; i++) out[i] = f32ToF16(values[i]!);
  else if (dtype === 'bf16') for (let i = 0; i < values.length; i++) out[i] = f32ToBf16(values[i]!);
  else if (dtype === 'bool') for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  else for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}
