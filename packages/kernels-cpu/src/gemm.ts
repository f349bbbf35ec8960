// C += A·B for one strided matrix pair, cache-blocked in the BLIS/GotoBLAS style: a KC×NC panel of B
// and an MC×KC block of A are packed into contiguous Float64Arrays laid out in the order the
// micro-kernel reads them, then a 4×4 micro-kernel keeps its 16 accumulators in locals. Packing is
// also what frees the kernel from the operands' layout: any strides (transposed, sliced, broadcast)
// pack the same way, so no operand is ever copied whole. Packing f32 into f64 removes the f32->f64
// conversion from the innermost loop and accumulates in double precision.
import type { TypedArray } from '@tessera/tensor';

/** Rows of C per micro-tile. */
const MR = 4;
/** Columns of C per micro-tile. */
const NR = 4;
/** Depth of a packed block: an MR×KC sliver of A plus an KC×NR sliver of B stay in L1. */
const KC = 128;
/** Rows of A per packed block (MC×KC doubles = 128 KiB, sized for L2). */
const MC = 128;
/** Columns of B per packed panel (KC×NC doubles = 1 MiB, sized for L2/L3). */
const NC = 1024;

/** A strided matrix operand: element (i, j) is `data[offset + i * rowStride + j * colStride]`. */
export interface MatrixOperand {
  readonly data: TypedArray;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

// Scratch reused across calls: allocating megabytes per matmul would dominate small products.
// Kernels run synchronously, so one set of buffers per process is enough. MC and NC are multiples
// of MR and NR, so a block's zero-padded slivers always fit.
const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(NC * KC);
const edgeTile = new Float64Array(MR * NR);

/** Packs rows i0..i0+mc, depths k0..k0+kc of A into MR-row slivers, zero-padding the last sliver. */
function packA(a: MatrixOperand, i0: number, mc: number, k0: number, kc: number, dst: Float64Array): void {
  const { data, rowStride: rs, colStride: cs } = a;
  let p = 0;
  for (let i = 0; i < mc; i += MR) {
    const rows = Math.min(MR, mc - i);
    let base = a.offset + (i0 + i) * rs + k0 * cs;
    if (rows === MR) {
      for (let k = 0; k < kc; k++, base += cs) {
        dst[p] = data[base]!;
        dst[p + 1] = data[base + rs]!;
        dst[p + 2] = data[base + 2 * rs]!;
        dst[p + 3] = data[base + 3 * rs]!;
        p += MR;
      }
    } else {
      for (let k = 0; k < kc; k++, base += cs) {
        for (let r = 0; r < MR; r++) dst[p++] = r < rows ? data[base + r * rs]! : 0;
      }
    }
  }
}

/** Packs depths k0..k0+kc, columns j0..j0+nc of B into NR-column slivers, zero-padding the last sliver. */
function packB(b: MatrixOperand, k0: number, kc: number, j0: number, nc: number, dst: Float64Array): void {
  const { data, rowStride: rs, colStride: cs } = b;
  let p = 0;
  for (let j = 0; j < nc; j += NR) {
    const cols = Math.min(NR, nc - j);
    let base = b.offset + k0 * rs + (j0 + j) * cs;
    if (cols === NR) {
      for (let k = 0; k < kc; k++, base += rs) {
        dst[p] = data[base]!;
        dst[p + 1] = data[base + cs]!;
        dst[p + 2] = data[base + 2 * cs]!;
        dst[p + 3] = data[base + 3 * cs]!;
        p += NR;
      }
    } else {
      for (let k = 0; k < kc; k++, base += rs) {
        for (let c = 0; c < NR; c++) dst[p++] = c < cols ? data[base + c * cs]! : 0;
      }
    }
  }
}

/**
 * The 4×4 micro-kernel: C[ci..] += (A sliver)·(B sliver) over kc depths. Writes a full tile when
 * mr = nr = 4, else goes through `edgeTile` and adds only the valid corner.
 */
function microKernel(kc: number, pa: Float64Array, ai: number, pb: Float64Array, bi: number, c: Float64Array, ci: number, ldc: number, mr: number, nr: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < kc; k++, ai += MR, bi += NR) {
    const b0 = pb[bi]!, b1 = pb[bi + 1]!, b2 = pb[bi + 2]!, b3 = pb[bi + 3]!;
    let a = pa[ai]!;
    c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
    a = pa[ai + 1]!;
    c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
    a = pa[ai + 2]!;
    c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
    a = pa[ai + 3]!;
    c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
  }
  if (mr === MR && nr === NR) {
    c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02; c[ci + 3] += c03;
    ci += ldc;
    c[ci] += c10; c[ci + 1] += c11; c[ci + 2] += c12; c[ci + 3] += c13;
    ci += ldc;
    c[ci] += c20; c[ci + 1] += c21; c[ci + 2] += c22; c[ci + 3] += c23;
    ci += ldc;
    c[ci] += c30; c[ci + 1] += c31; c[ci + 2] += c32; c[ci + 3] += c33;
    return;
  }
  const t = edgeTile;
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
  for (let r = 0; r < mr; r++) for (let j = 0; j < nr; j++) c[ci + r * ldc + j] += t[r * NR + j]!;
}

/** C (m×n, dense rows `ldc` apart from `cOffset`) += A (m×k) · B (k×n), for any strides of A and B. */
export function gemm(m: number, n: number, k: number, a: MatrixOperand, b: MatrixOperand, c: Float64Array, cOffset: number, ldc: number): void {
  if (m === 0 || n === 0 || k === 0) return;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = Math.min(KC, k - k0);
      packB(b, k0, kc, j0, nc, packedB);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packA(a, i0, mc, k0, kc, packedA);
        // Sweep the B sliver across the A block: the A block stays in L2, each B sliver in L1.
        for (let j = 0; j < nc; j += NR) {
          const nr = Math.min(NR, nc - j);
          const bi = j * kc; // (j / NR) slivers of NR * kc each
          for (let i = 0; i < mc; i += MR) {
            microKernel(kc, packedA, i * kc, packedB, bi, c, cOffset + (i0 + i) * ldc + j0 + j, ldc, Math.min(MR, mc - i), nr);
          }
        }
      }
    }
  }
}
