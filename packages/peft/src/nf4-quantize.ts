// NF4 quantisation as bitsandbytes does it for QLoRA: blocks of 64 scaled by their absmax and
// rounded to the nearest of 16 normal quantiles; the block absmaxes, minus their mean, quantised
// again to 8 bits in blocks of 256 with bitsandbytes' signed dynamic map (double quantisation).
import { NF4_BLOCK, NF4_CODE, NF4_SCALE_BLOCK } from '@tessera/tensor';

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
  scaleCode: number[];
}

let dynamic: number[] | null = null;

/** bitsandbytes' `create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)`: 256 sorted values in [-1, 1]. */
export function dynamicMap(): number[] {
  if (dynamic) return dynamic;
  const data: number[] = [];
  const maxExp = 7;
  const nonSign = 7;
  for (let i = 0; i < maxExp; i++) {
    const items = 2 ** (i + nonSign - maxExp) + 1;
    // torch.linspace(0.1, 1, items) in f32, then midpoints
    const bounds = Array.from({ length: items }, (_, j) => Math.fround(0.1 + ((1 - 0.1) * j) / (items - 1)));
    const scale = 10 ** (-(maxExp - 1) + i);
    for (let j = 0; j < items - 1; j++) {
      const mean = (bounds[j]! + bounds[j + 1]!) / 2;
      data.push(scale * mean, -scale * mean);
    }
  }
  data.push(0, 1);
  data.sort((a, b) => a - b);
  dynamic = data.map((v) => Math.fround(v));
  return dynamic;
}

/** Index of the nearest code value (codes sorted ascending). */
function nearest(code: readonly number[], v: number): number {
  let lo = 0;
  let hi = code.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (code[mid]! <= v) lo = mid;
    else hi = mid;
  }
  return v - code[lo]! <= code[hi]! - v ? lo : hi;
}

/** Quantises f32 values (row-major, any shape) to NF4 with double-quantised block scales. */
export function quantizeNf4(values: ArrayLike<number>, shape: number[]): Nf4Weight {
  const n = values.length;
  const expected = shape.reduce((a, b) => a * b, 1);
  if (n !== expected) throw new RangeError(`quantizeNf4: ${n} values for shape [${shape.join(',')}] (${expected} elements)`);
  const blocks = Math.ceil(n / NF4_BLOCK);
  const absmax = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    let m = 0;
    for (let i = b * NF4_BLOCK; i < Math.min(n, (b + 1) * NF4_BLOCK); i++) m = Math.max(m, Math.abs(values[i]!));
    absmax[b] = m;
  }
  // Second level: absmax - mean, blockwise over 256 blocks, 8-bit dynamic code.
  let offset = 0;
  for (let b = 0; b < blocks; b++) offset += absmax[b]!;
  offset = Math.fround(blocks ? offset / blocks : 0);
  const code = dynamicMap();
  const groups = Math.ceil(blocks / NF4_SCALE_BLOCK);
  const scales2 = new Float32Array(groups);
  const scalesQ = new Uint8Array(blocks);
  for (let g = 0; g < groups; g++) {
    let m = 0;
    const end = Math.min(blocks, (g + 1) * NF4_SCALE_BLOCK);
    for (let b = g * NF4_SCALE_BLOCK; b < end; b++) m = Math.max(m, Math.abs(absmax[b]! - offset));
    scales2[g] = m;
    for (let b = g * NF4_SCALE_BLOCK; b < end; b++) scalesQ[b] = nearest(code, m === 0 ? 0 : (absmax[b]! - offset) / m);
  }
  // First level: each value by its block's dequantised absmax (what the kernels will multiply by).
  const packed = new Uint8Array(Math.ceil(n / 2));
  for (let b = 0; b < blocks; b++) {
    const scale = code[scalesQ[b]!]! * scales2[Math.floor(b / NF4_SCALE_BLOCK)]! + offset;
    for (let i = b * NF4_BLOCK; i < Math.min(n, (b + 1) * NF4_BLOCK); i++) {
      const idx = nearest(NF4_CODE, scale === 0 ? 0 : values[i]! / scale);
      packed[i >> 1]! |= i & 1 ? idx : idx << 4;
    }
  }
  return { shape: [...shape], packed, scalesQ, scales2, offset, scaleCode: code };
}

/** Values a quantised weight stands for (host-side reference of the `nf4Dequantize` kernels). */
export function dequantizeNf4(w: Nf4Weight): Float32Array {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = Math.floor(i / NF4_BLOCK);
    const scale = w.scaleCode[w.scalesQ[b]!]! * w.scales2[Math.floor(b / NF4_SCALE_BLOCK)]! + w.offset;
    const byte = w.packed[i >> 1]!;
    out[i] = NF4_CODE[i & 1 ? byte & 0x0f : byte >> 4]! * scale;
  }
  return out;
}
