// The f32 matmul on the WebAssembly SIMD gemm: each batch entry's operands are packed straight from
// their strided views, so transposed, sliced and broadcast operands cost nothing extra. Everything
// else (f64, integers, products too small to pack or too large for a 2 GiB memory) goes to the TypeScript kernel.
import { numel, type DType } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { takeF32 } from '../f32-array-pool.js';
import type { GemmElement } from '../wasm/half-values.js';
import type { GemmOperand, WasmGemm } from '../wasm/wasm-gemm.js';
import { widenHalf } from './widen-half.js';
import { forEachBatch, matmulKernel, operand, useGemm } from './matmul.js';

/**
 * True when every batch entry multiplies the same B and the A entries follow each other as rows of
 * one taller matrix (`x @ W` with x of shape (B, T, C)): the batch then folds into M, one large
 * product instead of B small ones, which also lets it reach the thread threshold.
 */
function foldsIntoRows(entries: readonly (readonly [number, number])[], m: number, aRowStride: number): boolean {
  for (let e = 1; e < entries.length; e++) {
    if (entries[e]![1] !== entries[0]![1] || entries[e]![0] !== entries[0]![0] + e * m * aRowStride) return false;
  }
  return true;
}

/** Operand dtypes the gemm packs (f16/bf16 widened while packing; the backend lists matmul in `halfInputs`). */
const GEMM_ELEMENTS: ReadonlySet<DType> = new Set<DType>(['f32', 'bf16', 'f16']);

/**
 * The TypeScript kernel for what the gemm does not take. The backend passes f16/bf16 operands of
 * matmul as they are, so small products widen them here, as the dispatcher does for other kernels.
 */
const fallback: CpuKernel = (inputs, attrs, out) => matmulKernel(inputs.map(widenHalf), attrs, out);

/** A matmul kernel that runs f32 products (f32, f16 or bf16 operands) on `engine()` (created on first use) and the rest in TypeScript. */
export function wasmMatmulKernel(engine: () => WasmGemm): CpuKernel {
  return (inputs, attrs, out) => {
    const [a, b] = inputs;
    const r = out.shape.length;
    const m = out.shape[r - 2]!;
    const n = out.shape[r - 1]!;
    const k = a!.shape[a!.shape.length - 1]!;
    if (out.dtype !== 'f32' || !GEMM_ELEMENTS.has(a!.dtype) || !GEMM_ELEMENTS.has(b!.dtype) || numel(out.shape) === 0) return fallback(inputs, attrs, out);
    const entries: (readonly [number, number])[] = [];
    forEachBatch(a!, b!, out, (aOffset, bOffset) => entries.push([aOffset, bOffset]));
    const A = (offset: number): GemmOperand => ({ ...operand(a!, offset), element: a!.dtype as GemmElement });
    const B = (offset: number): GemmOperand => ({ ...operand(b!, offset), element: b!.dtype as GemmElement });
    const A0 = A(entries[0]![0]);
    const fold = entries.length > 1 && foldsIntoRows(entries, m, A0.rowStride);
    const rows = fold ? entries.length * m : m;
    if (!useGemm(rows, n, k)) return fallback(inputs, attrs, out);
    const gemm = engine();
    if (!gemm.fits(rows, n, k)) return fallback(inputs, attrs, out);
    // Every element is written by the copy out of C.
    const dst = takeF32(numel(out.shape));
    if (fold) gemm.matmul(rows, n, k, A0, B(entries[0]![1]), dst, 0);
    else if (gemm.splitsBatch(entries.length, m, n, k)) {
      // Many small products (attention's per-head scores): whole entries per thread.
      gemm.matmulBatch(m, n, k, entries.map(([ao]) => A(ao)), entries.map(([, bo]) => B(bo)), dst);
    } else for (let e = 0; e < entries.length; e++) gemm.matmul(m, n, k, A(entries[e]![0]), B(entries[e]![1]), dst, e * m * n);
    return dst;
  };
}
