// The f32 matmul on the WebAssembly SIMD gemm: each batch entry's operands are packed straight from
// their strided views, so transposed, sliced and broadcast operands cost nothing extra. Everything
// else (f64, integers, products too small to pack or too large for a 2 GiB memory) goes to the TypeScript kernel.
import { numel } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { takeF32 } from '../f32-array-pool.js';
import type { WasmGemm } from '../wasm/wasm-gemm.js';
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

/** A matmul kernel that runs f32 products on `engine()` (created on first use) and the rest in TypeScript. */
export function wasmMatmulKernel(engine: () => WasmGemm): CpuKernel {
  return (inputs, attrs, out) => {
    const [a, b] = inputs;
    const r = out.shape.length;
    const m = out.shape[r - 2]!;
    const n = out.shape[r - 1]!;
    const k = a!.shape[a!.shape.length - 1]!;
    if (out.dtype !== 'f32' || a!.dtype !== 'f32' || b!.dtype !== 'f32' || numel(out.shape) === 0) return matmulKernel(inputs, attrs, out);
    const entries: (readonly [number, number])[] = [];
    forEachBatch(a!, b!, out, (aOffset, bOffset) => entries.push([aOffset, bOffset]));
    const A0 = operand(a!, entries[0]![0]);
    const fold = entries.length > 1 && foldsIntoRows(entries, m, A0.rowStride);
    const rows = fold ? entries.length * m : m;
    if (!useGemm(rows, n, k)) return matmulKernel(inputs, attrs, out);
    const gemm = engine();
    if (!gemm.fits(rows, n, k)) return matmulKernel(inputs, attrs, out);
    // Every element is written by the copy out of C.
    const dst = takeF32(numel(out.shape));
    if (fold) gemm.matmul(rows, n, k, A0, operand(b!, entries[0]![1]), dst, 0);
    else if (gemm.splitsBatch(entries.length, m, n, k)) {
      // Many small products (attention's per-head scores): whole entries per thread.
      gemm.matmulBatch(m, n, k, entries.map(([ao]) => operand(a!, ao)), entries.map(([, bo]) => operand(b!, bo)), dst);
    } else for (let e = 0; e < entries.length; e++) gemm.matmul(m, n, k, operand(a!, entries[e]![0]), operand(b!, entries[e]![1]), dst, e * m * n);
    return dst;
  };
}
