import { NF4_BLOCK, NF4_CODE, NF4_SCALE_BLOCK, numel, type Nf4Attrs, type TensorView } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';

const CODE = Float32Array.from(NF4_CODE);

/** Writes elements [start, start + count) of a packed NF4 weight, dequantised, into `dst` from `dstOffset`. */
export function dequantizeNf4Range(
  [packed, scalesQ, scales2]: readonly TensorView[],
  attrs: Nf4Attrs,
  start: number,
  count: number,
  dst: Float32Array,
  dstOffset = 0,
): void {
  // Packed inputs come from quantisation, always dense; offsets still apply.
  const p = dataOf(packed!);
  const q = dataOf(scalesQ!);
  const s2 = dataOf(scales2!);
  const po = packed!.offset;
  const qo = scalesQ!.offset;
  const so = scales2!.offset;
  const code = attrs.scaleCode;
  let e = start;
  const end = start + count;
  while (e < end) {
    const block = Math.floor(e / NF4_BLOCK);
    // f32 at each step, as bitsandbytes' dequantize_blockwise (+= offset) and dequantize_4bit compute it.
    const scale = Math.fround(Math.fround(code[q[qo + block]!]! * s2[so + Math.floor(block / NF4_SCALE_BLOCK)]!) + attrs.offset);
    const blockEnd = Math.min(end, (block + 1) * NF4_BLOCK);
    for (; e < blockEnd; e++) {
      const byte = p[po + (e >> 1)]!;
      // bitsandbytes packs the even element in the high nibble.
      const idx = e & 1 ? byte & 0x0f : byte >> 4;
      dst[dstOffset + e - start] = CODE[idx]! * scale;
    }
  }
}

/** The f32 weight of a packed NF4 tensor. */
export const nf4DequantizeKernel: CpuKernel<Nf4Attrs> = (inputs, attrs) => {
  const n = numel(attrs.shape);
  const out = new Float32Array(n);
  dequantizeNf4Range(inputs, attrs, 0, n, out);
  return out;
};
