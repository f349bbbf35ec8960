// The fused NF4 product: dequantises the 4-bit weight one tile of rows at a time and multiplies it
// at once, so only a tile (not the whole f32 weight) ever exists. Used for both x·Wᵀ (forward) and
// dy·W (the input gradient).
import { numel, type Nf4MatmulAttrs, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { gemm, type MatrixOperand } from '../gemm.js';
import { isDenseRowMajor } from '../strided.js';
import { dequantizeNf4Range } from './nf4-dequantize.js';
import { copyKernel } from './copy.js';

/** Weight rows dequantised per tile: 256 rows of a 4096-wide weight is 4 MiB of f32. */
const TILE_ROWS = 256;

/** The input as a dense (rows × cols) matrix operand, copying only when it is strided. */
function denseRows(x: TensorView): { data: TypedArray; offset: number } {
  if (isDenseRowMajor(x)) return { data: dataOf(x), offset: x.offset };
  return { data: copyKernel([x], undefined, { shape: x.shape, dtype: x.dtype }), offset: 0 };
}

/** y = x·Wᵀ or x·W for a packed NF4 W, tile by tile. */
export const nf4MatmulKernel: CpuKernel<Nf4MatmulAttrs> = ([x, packed, scalesQ, scales2], attrs, out) => {
  const [outF, inF] = attrs.shape as [number, number];
  const k = attrs.transposeW ? inF : outF; // contracted dim
  const n = attrs.transposeW ? outF : inF; // result columns
  const m = numel(x!.shape) / Math.max(1, k);
  const xs = denseRows(x!);
  const c = new Float64Array(numel(out.shape));
  const tile = new Float32Array(TILE_ROWS * inF);
  const quant = [packed!, scalesQ!, scales2!];
  for (let r0 = 0; r0 < outF; r0 += TILE_ROWS) {
    const rows = Math.min(TILE_ROWS, outF - r0);
    dequantizeNf4Range(quant, attrs, r0 * inF, rows * inF, tile);
    if (attrs.transposeW) {
      // y[:, r0:r0+rows] += x (m×in) · tileᵀ (in×rows)
      const a: MatrixOperand = { data: xs.data, offset: xs.offset, rowStride: k, colStride: 1 };
      const b: MatrixOperand = { data: tile, offset: 0, rowStride: 1, colStride: inF };
      gemm(m, rows, inF, a, b, c, r0, n);
    } else {
      // y += x[:, r0:r0+rows] (m×rows) · tile (rows×in)
      const a: MatrixOperand = { data: xs.data, offset: xs.offset + r0, rowStride: k, colStride: 1 };
      const b: MatrixOperand = { data: tile, offset: 0, rowStride: inF, colStride: 1 };
      gemm(m, n, rows, a, b, c, 0, n);
    }
  }
  return out.dtype === 'f64' ? c : Float32Array.from(c);
};
