// How each dtype lives in a GPU buffer and becomes a value in WGSL. Every buffer is declared as
// array<u32>: 32-bit types are one word per element, f16/bf16 two elements per word, u8/bool four,
// f64 two words per element (only `cast` meets f64: it is not a compute dtype here). Values are
// computed in f32 (all floats), i32 or u32 (u8 and bool too), and rounded once on the way out,
// with the same round-to-nearest-even as @tessera/tensor's f32ToF16 / f32ToBf16.
import type { DType } from '@tessera/tensor';

/** The WGSL scalar type a dtype computes in. */
export type ComputeType = 'f32' | 'i32' | 'u32';

/** The WGSL type values of `dtype` are computed in. */
export function computeType(dtype: DType): ComputeType {
  switch (dtype) {
    case 'f32':
    case 'f16':
    case 'bf16':
    case 'f64':
      return 'f32';
    case 'i32':
      return 'i32';
    default:
      return 'u32';
  }
}

/** Elements stored in one u32 word (f64: one element per two words, reported as 0.5). */
export function elementsPerWord(dtype: DType): number {
  switch (dtype) {
    case 'u8':
    case 'bool':
      return 4;
    case 'f16':
    case 'bf16':
      return 2;
    case 'f64':
      return 0.5;
    default:
      return 1;
  }
}

/** Bytes a storage of `size` elements of `dtype` occupies on the GPU (whole words). */
export function storageBytes(dtype: DType, size: number): number {
  return Math.ceil(size / elementsPerWord(dtype)) * 4;
}

/** True when several elements share one word, so a thread cannot write a single element alone. */
export function isPacked(dtype: DType): boolean {
  return elementsPerWord(dtype) > 1;
}

/** The 32-bit dtype a packed dtype is computed into before a final `cast` packs it. */
export function widened(dtype: DType): DType {
  if (dtype === 'f16' || dtype === 'bf16') return 'f32';
  if (dtype === 'u8' || dtype === 'bool') return 'u32';
  return dtype;
}

/**
 * WGSL: a function `name(e: u32) -> CT` loading element e (an element index) of buffer `buf`;
 * `shift` (a WGSL u32 expression) is the first word of a binding window, subtracted from word indices.
 */
export function loadFunction(name: string, buf: string, dtype: DType, shift?: string): string {
  const ct = computeType(dtype);
  const at = (word: string): string => (shift === undefined ? `${buf}[${word}]` : `${buf}[(${word}) - ${shift}]`);
  let body: string;
  switch (dtype) {
    case 'f32':
      body = `return bitcast<f32>(${at('e')});`;
      break;
    case 'i32':
      body = `return bitcast<i32>(${at('e')});`;
      break;
    case 'u32':
      body = `return ${at('e')};`;
      break;
    case 'u8':
    case 'bool':
      body = `return (${at('e >> 2u')} >> ((e & 3u) * 8u)) & 0xffu;`;
      break;
    case 'f16':
      body = `return unpack2x16float(${at('e >> 1u')})[e & 1u];`;
      break;
    case 'bf16':
      body = `return bitcast<f32>(((${at('e >> 1u')} >> ((e & 1u) * 16u)) & 0xffffu) << 16u);`;
      break;
    case 'f64':
      body = `return f64_to_f32(${at('2u * e')}, ${at('2u * e + 1u')});`;
      break;
  }
  return `fn ${name}(e: u32) -> ${ct} { ${body} }`;
}

/** WGSL expression: the raw bits (in the low bits of a u32) storing value `v` (of the dtype's compute type). */
export function encodeExpr(dtype: DType, v: string): string {
  switch (dtype) {
    case 'f32':
    case 'i32':
      return `bitcast<u32>(${v})`;
    case 'u32':
      return v;
    case 'u8':
      return `(${v} & 0xffu)`;
    case 'bool':
      return `select(0u, 1u, ${v} != 0u)`;
    case 'f16':
      return `f32_to_f16(${v})`;
    case 'bf16':
      return `f32_to_bf16(${v})`;
    case 'f64':
      throw new Error('webgpu: f64 is stored by the cast kernel only');
  }
}

/**
 * WGSL expression converting `v` from a value of dtype `from` to a value of dtype `to`, with the CPU
 * backend's semantics: floats to integers truncate toward zero and wrap modulo 2^32 (then 2^8 for u8;
 * negative to unsigned wraps), NaN and ±Infinity become 0 (f32_to_i32: WGSL's i32()/u32() would clamp
 * them, giving -1 for +Infinity as i32 and 255 as u8), anything to bool is `!= 0`.
 */
export function convertExpr(v: string, from: DType, to: DType): string {
  const cf = computeType(from);
  const ct = computeType(to);
  // On the bits: WGSL lets compilers assume no NaN, and lavapipe folds NaN != 0.0 to false.
  if (to === 'bool') return cf === 'f32' ? `select(0u, 1u, (bitcast<u32>(${v}) & 0x7fffffffu) != 0u)` : `select(0u, 1u, ${v} != 0${cf === 'u32' ? 'u' : ''})`;
  if (cf === ct) return v;
  if (ct === 'f32') return `f32(${v})`;
  if (ct === 'i32') return cf === 'f32' ? `f32_to_i32(${v})` : `bitcast<i32>(${v})`;
  return cf === 'f32' ? `bitcast<u32>(f32_to_i32(${v}))` : `bitcast<u32>(${v})`;
}

/** WGSL helpers every generated shader may call (unused ones cost nothing once compiled). */
export const CONVERSIONS = /* wgsl */ `
fn f32_to_i32(x: f32) -> i32 {
  // Integers wrap modulo 2^32 on the CPU (a typed array's ToInt32), and NaN and ±Infinity give 0;
  // WGSL's i32() and u32() clamp instead. So below 2^31 in magnitude i32() (toward zero) is the
  // answer, and above it, where x is an integer m·2^(e-23) with a 24-bit m, the low 32 bits of that
  // product are (m << (e - 23)), negated for a negative x: 0 once the shift reaches 32, which takes
  // in ±Infinity and NaN (exponent field 255), tested on the bits (see bool).
  let bits = bitcast<u32>(x);
  let e = i32((bits >> 23u) & 0xffu) - 127;
  if (e < 31) { return i32(x); }
  if (e >= 55) { return 0; }
  let low = ((bits & 0x7fffffu) | 0x800000u) << u32(e - 23);
  return bitcast<i32>(select(low, 0u - low, (bits & 0x80000000u) != 0u));
}
fn f32_to_f16(v: f32) -> u32 {
  let x = bitcast<u32>(v);
  let sign = (x >> 16u) & 0x8000u;
  let ex = i32((x >> 23u) & 0xffu);
  var mant = x & 0x7fffffu;
  if (ex == 255) { return sign | 0x7c00u | select(0u, 0x200u, mant != 0u); }
  let e = ex - 127 + 15;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    var h = mant >> shift;
    let rem = mant & ((1u << shift) - 1u);
    let mid = 1u << (shift - 1u);
    if (rem > mid || (rem == mid && (h & 1u) == 1u)) { h = h + 1u; }
    return sign | h;
  }
  var h = sign | (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
  return h;
}
fn f32_to_bf16(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu) != 0u) { return (bits >> 16u) | 0x40u; }
  return ((bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u) & 0xffffu;
}
fn f64_to_f32(lo: u32, hi: u32) -> f32 {
  let sign = hi & 0x80000000u;
  let e = i32((hi >> 20u) & 0x7ffu);
  if (e == 0x7ff) {
    return bitcast<f32>(sign | 0x7f800000u | select(0u, 0x400000u, (hi & 0xfffffu) != 0u || lo != 0u));
  }
  let ex = e - 1023;
  if (e == 0 || ex < -150) { return bitcast<f32>(sign); }
  if (ex > 127) { return bitcast<f32>(sign | 0x7f800000u); }
  // Top 23 mantissa bits, and the 29 below them for rounding.
  var m = ((hi & 0xfffffu) << 3u) | (lo >> 29u);
  let rem = lo & 0x1fffffffu;
  if (ex >= -126) {
    var bits = sign | (u32(ex + 127) << 23u) | m;
    if (rem > 0x10000000u || (rem == 0x10000000u && (m & 1u) == 1u)) { bits = bits + 1u; }
    return bitcast<f32>(bits);
  }
  // Subnormal in f32: rare enough to round only once through the float unit.
  let full = f32(m | 0x800000u) / 8388608.0;
  return select(1.0, -1.0, sign != 0u) * ldexp(full, ex);
}
fn f32_to_f64(v: f32) -> vec2<u32> {
  let x = bitcast<u32>(v);
  let sign = x & 0x80000000u;
  let e = (x >> 23u) & 0xffu;
  let m = x & 0x7fffffu;
  if (e == 255u) { return vec2<u32>(m << 29u, sign | 0x7ff00000u | (m >> 3u)); }
  if (e == 0u) {
    if (m == 0u) { return vec2<u32>(0u, sign); }
    let p = firstLeadingBit(m);
    let frac = m ^ (1u << p);
    let shift = 52u - p;
    let ex = u32(i32(p) - 149 + 1023);
    var hi: u32; var lo: u32;
    if (shift >= 32u) { hi = frac << (shift - 32u); lo = 0u; } else { hi = frac >> (32u - shift); lo = frac << shift; }
    return vec2<u32>(lo, sign | (ex << 20u) | hi);
  }
  return vec2<u32>(m << 29u, sign | ((e - 127u + 1023u) << 20u) | (m >> 3u));
}
`;
