// NF4 quantisation exactly as bitsandbytes' quantize_4bit(quant_type='nf4', blocksize=64,
// compress_statistics=True) does it on CUDA, in f32 step for step: each block of 64 is scaled by the
// reciprocal of its exact absmax and coded by dQuantizeNF4's thresholds; afterwards the block absmaxes,
// minus their mean, are quantised to 8 bits in blocks of 256 with the signed dynamic map (double
// quantisation). test/nf4-reference.test.ts compares every code, absmax code, scale and dequantised
// value with scripts/reference/nf4_reference.py, a torch f32 transcription of bitsandbytes' source.
import { NF4_BLOCK, NF4_CODE, NF4_SCALE_BLOCK } from '@tessera/tensor';
import { DYNAMIC_MAP } from './nf4-dynamic-map.js';

/** A weight in NF4 form: what `nf4Linear` and `nf4Dequantize` read. */
export interface Nf4Weight {
  shape: number[];
  /** Two 4-bit code indices per byte, the even element in the high nibble. */
  packed: Uint8Array;
  /** Each block's absmax, 8-bit quantised. */
  scalesQ: Uint8Array;
  /** One f32 scale per 256 blocks for the 8-bit absmaxes. */
  scales2: Float32Array;
  /** Mean of the absmaxes, subtracted before their quantisation. */
  offset: number;
  /** The 256-entry code the absmaxes are quantised with. */
  scaleCode: readonly number[];
}

/** bitsandbytes' `create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)`: 256 sorted f32 values in [-1, 1]. */
export function dynamicMap(): readonly number[] {
  return DYNAMIC_MAP;
}

// dQuantizeNF4's 15 decision thresholds (its f32 literals), sorted ascending. Its tree of strict
// `x > t` tests returns the number of thresholds below x, so a value on a threshold takes the lower
// code and NaN (an all-zero block: 0 * (1 / 0)) takes code 0.
const NF4_THRESHOLDS = Float32Array.from([
  -0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544, -0.23460740596055984,
  -0.13791173323988914, -0.045525018125772476, 0.03979014977812767, 0.1202552504837513, 0.2035212516784668,
  0.2920137718319893, 0.3893125355243683, 0.5016634166240692, 0.6427869200706482, 0.8614784181118011,
]);

/** dQuantizeNF4: the NF4 index of a value already scaled by its block's 1 / absmax. */
function nf4Index(x: number): number {
  let lo = 0;
  let hi = NF4_THRESHOLDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x > NF4_THRESHOLDS[mid]!) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** bitsandbytes' dQuantize<0>: binary search of the 256-entry code, rounding at f32 midpoints. */
function dynamicIndex(code: readonly number[], x: number): number {
  let pivot = 127;
  let upperPivot = 255;
  let lowerPivot = 0;
  let lower = -1;
  let upper = 1;
  let val = code[pivot]!;
  for (let i = 64; i > 0; i >>= 1) {
    if (x > val) {
      lowerPivot = pivot;
      lower = val;
      pivot += i;
    } else {
      upperPivot = pivot;
      upper = val;
      pivot -= i;
    }
    val = code[pivot]!;
  }
  if (upperPivot === 255) upper = code[upperPivot]!;
  if (lowerPivot === 0) lower = code[lowerPivot]!;
  if (x > val) return x > Math.fround(Math.fround(upper + val) * 0.5) ? upperPivot : pivot;
  return x < Math.fround(Math.fround(lower + val) * 0.5) ? lowerPivot : pivot;
}

/** Absolute maximum of each block of `size` (f32 values, so exact). */
function blockAbsmax(values: ArrayLike<number>, size: number): Float32Array {
  const out = new Float32Array(Math.ceil(values.length / size));
  for (let b = 0; b < out.length; b++) {
    let m = 0;
    for (let i = b * size; i < Math.min(values.length, (b + 1) * size); i++) m = Math.max(m, Math.abs(values[i]!));
    out[b] = m;
  }
  return out;
}

/** Quantises values (row-major, any shape; rounded to f32 first) to NF4 with double-quantised block scales. */
export function quantizeNf4(values: ArrayLike<number>, shape: number[]): Nf4Weight {
  const n = values.length;
  const expected = shape.reduce((a, b) => a * b, 1);
  if (n !== expected) throw new RangeError(`quantizeNf4: ${n} values for shape [${shape.join(',')}] (${expected} elements)`);
  const w = values instanceof Float32Array ? values : Float32Array.from(values);
  // First level: codes from the exact f32 absmax, x = w * (1 / absmax) in f32 as the CUDA kernel does.
  const absmax = blockAbsmax(w, NF4_BLOCK);
  const packed = new Uint8Array(Math.ceil(n / 2));
  for (let b = 0; b < absmax.length; b++) {
    const inv = Math.fround(1 / absmax[b]!);
    for (let i = b * NF4_BLOCK; i < Math.min(n, (b + 1) * NF4_BLOCK); i++) {
      const idx = nf4Index(Math.fround(w[i]! * inv));
      packed[i >> 1]! |= i & 1 ? idx : idx << 4;
    }
    // The kernel pads a partial block with 0.0 and stores the padding's nibble in an odd-length weight's last byte.
    if (n & 1 && b === absmax.length - 1) packed[n >> 1]! |= nf4Index(Math.fround(0 * inv));
  }
  // Second level: absmax - mean, blockwise over 256 blocks with the dynamic map. bitsandbytes takes
  // torch's f32 mean, whose last bit depends on the device's summation order; this is the correctly
  // rounded mean (an f64 sum of f32 values, divided, rounded once).
  let sum = 0;
  for (const a of absmax) sum += a;
  const offset = absmax.length ? Math.fround(sum / absmax.length) : 0;
  const centred = absmax.map((a) => a - offset); // Float32Array.map rounds each difference to f32
  const scales2 = blockAbsmax(centred, NF4_SCALE_BLOCK);
  const scalesQ = new Uint8Array(absmax.length);
  for (let b = 0; b < absmax.length; b++) {
    const inv = Math.fround(1 / scales2[Math.floor(b / NF4_SCALE_BLOCK)]!);
    scalesQ[b] = dynamicIndex(DYNAMIC_MAP, Math.fround(centred[b]! * inv));
  }
  return { shape: [...shape], packed, scalesQ, scales2, offset, scaleCode: DYNAMIC_MAP };
}

/** Block b's dequantised absmax, code[q] * absmax2 + offset in f32 (dequantize_blockwise, then += offset). */
export function nf4BlockScale(w: Pick<Nf4Weight, 'scalesQ' | 'scales2' | 'offset' | 'scaleCode'>, b: number): number {
  return Math.fround(Math.fround(w.scaleCode[w.scalesQ[b]!]! * w.scales2[Math.floor(b / NF4_SCALE_BLOCK)]!) + w.offset);
}

/** Values a quantised weight stands for, as bitsandbytes' dequantize_4bit computes them in f32 (host-side reference of the `nf4Dequantize` kernels). */
export function dequantizeNf4(w: Nf4Weight): Float32Array {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let b = 0; b * NF4_BLOCK < n; b++) {
    const scale = nf4BlockScale(w, b);
    for (let i = b * NF4_BLOCK; i < Math.min(n, (b + 1) * NF4_BLOCK); i++) {
      const byte = w.packed[i >> 1]!;
      out[i] = NF4_CODE[i & 1 ? byte & 0x0f : byte >> 4]! * scale;
    }
  }
  return out;
}
