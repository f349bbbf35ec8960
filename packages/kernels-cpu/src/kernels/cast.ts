// Conversion between every pair of dtypes. f16/bf16 are 16-bit patterns in a Uint16Array: they are
// decoded to numbers on the way in and rounded (to nearest even) on the way out.
import { allocTyped, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, numel, type DType } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { denseStrides, forEachRow } from '../strided.js';

/** Decodes a stored element of `dtype` to its numeric value. */
function decoderFor(dtype: DType): (raw: number) => number {
  if (dtype === 'f16') return f16ToF32;
  if (dtype === 'bf16') return bf16ToF32;
  return (raw) => raw;
}

/** Encodes a numeric value as a stored element of `dtype`. */
function encoderFor(dtype: DType): (v: number) => number {
  switch (dtype) {
    case 'f16':
      return f32ToF16;
    case 'bf16':
      return f32ToBf16;
    case 'bool':
      return (v) => (v !== 0 ? 1 : 0);
    case 'i32':
    case 'u32':
    case 'u8':
      // Truncate toward zero; the typed array then wraps out-of-range values (NaN becomes 0).
      return Math.trunc;
    default:
      return (v) => v;
  }
}

/** Converts elements to `out.dtype`: floats to integers truncate toward zero, anything to bool is != 0. */
export const castKernel: CpuKernel<{ dtype: DType }> = ([x], _attrs, out) => {
  const src = dataOf(x!);
  const dst = allocTyped(out.dtype, numel(out.shape));
  const decode = decoderFor(x!.dtype);
  const encode = encoderFor(out.dtype);
  forEachRow(out.shape, [denseStrides(out.shape), x!.strides], [0, x!.offset], (offs, n, inner) => {
    const si = inner[1]!;
    let o = offs[0]!;
    let i = offs[1]!;
    for (let t = 0; t < n; t++, o++, i += si) dst[o] = encode(decode(src[i]!));
  });
  return dst;
};
