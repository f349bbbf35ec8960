// The f32 matmul on the WebAssembly SIMD gemm: each batch entry's operands are packed straight from
// their strided views, so transposed, sliced and broadcast operands cost nothing extra. Everything
// else (f64, integers, products too small to pack or too large for a 2 GiB memory) goes to the TypeScript kernel.
import { allocTyped, numel } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import type { WasmGemm } from '../wasm/wasm-gemm.js';
import { forEachBatch, matmulKernel, operand, useGemm } from './matmul.js';

/** A matmul kernel that runs f32 products on `engine()` (created on first use) and the rest in TypeScript. */
export function wasmMatmulKernel(engine: () => WasmGemm): CpuKernel {
  return (inputs, attrs, out) => {
    const [a, b] = inputs;
    const r = out.shape.length;
    const m = out.shape[r - 2]!;
    const n = out.shape[r - 1]!;
    const k = a!.shape[a!.shape.length - 1]!;
    if (out.dtype !== 'f32' || a!.dtype !== 'f32' || b!.dtype !== 'f32' || !useGemm(m, n, k)) return matmulKernel(inputs, attrs, out);
    const gemm = engine();
    if (!gemm.fits(m, n, k)) return matmulKernel(inputs, attrs, out);
    const dst = allocTyped('f32', numel(out.shape)) as Float32Array;
    forEachBatch(a!, b!, out, (aOffset, bOffset, index) => {
      gemm.matmul(m, n, k, operand(a!, aOffset), operand(b!, bOffset), dst, index * m * n);
    });
    return dst;
  };
}
