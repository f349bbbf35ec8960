// The softmax, log-softmax and cross-entropy kernels with their lane sums of exp(x - max) on the
// WebAssembly SIMD module, for contiguous f32 lanes of at least WASM_SUM_EXP_MIN (a vocabulary's
// logits, attention rows); other lanes keep the TypeScript loop. f32 exp within an ulp, summed in f64.
import { OPS, type OpDef, type TypedArray } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { wasmSumExpF32 } from '../wasm/wasm-elementwise.js';
import { crossEntropyBackwardKernelWith, crossEntropyLossesKernelWith } from './cross-entropy.js';
import { laneSumExp, logSoftmaxBackwardKernelWith, logSoftmaxKernelWith, softmaxBackwardKernelWith, softmaxKernelWith } from './softmax.js';

/** Shorter lanes stay in the TypeScript loop (the copy into the module and the call cost more). */
export const WASM_SUM_EXP_MIN = 64;

/** The lane sum on the module where the lane is a contiguous f32 run of at least WASM_SUM_EXP_MIN. */
export function laneSumExpWasm(x: TypedArray, i: number, s: number, n: number, m: number): number {
  if (s === 1 && n >= WASM_SUM_EXP_MIN && x instanceof Float32Array) return wasmSumExpF32(x, i, n, m) ?? laneSumExp(x, i, s, n, m);
  return laneSumExp(x, i, s, n, m);
}

/** The six kernels with the SIMD lane sum, for a backend with WebAssembly. */
export const WASM_SOFTMAX_KERNELS: ReadonlyMap<OpDef, CpuKernel> = new Map<OpDef, CpuKernel>([
  [OPS.softmax, softmaxKernelWith(laneSumExpWasm)],
  [OPS.logSoftmax, logSoftmaxKernelWith(laneSumExpWasm)],
  [OPS.softmaxBackward, softmaxBackwardKernelWith(laneSumExpWasm)],
  [OPS.logSoftmaxBackward, logSoftmaxBackwardKernelWith(laneSumExpWasm)],
  [OPS.crossEntropyLosses, crossEntropyLossesKernelWith(laneSumExpWasm)],
  [OPS.crossEntropyBackward, crossEntropyBackwardKernelWith(laneSumExpWasm)],
]);
