// The CPU side of Backend.adamwUpdate: one pass per parameter instead of the composed adamwStep's
// ~12 elementwise ops, each of which reads and writes whole f32 arrays. Every step rounds to f32
// where the composition stores an f32 tensor (scalars included: a number operand becomes an f32
// 0-d tensor there), so the fused result is bit-identical to the composition.
import type { AdamWResolved, TensorView, TypedArray } from '@tessera/tensor';
import { dataOf } from './cpu-kernel.js';
import { takeF32 } from './f32-array-pool.js';
import { isDenseRowMajor } from './strided.js';
import { wasmAdamwF32 } from './wasm/wasm-elementwise.js';


/**
 * New param, m and v arrays, or null where an operand is not a dense f32 array of the param's size
 * (the composition runs then). With `wasm`, large parameters update on the SIMD module: the same f32
 * operations four lanes at a time, bit-identical to the loop below.
 */
export function adamwUpdateArrays(param: TensorView, grad: TensorView, m: TensorView, v: TensorView, h: AdamWResolved, wasm = false): { param: TypedArray; m: TypedArray; v: TypedArray } | null {
  const n = param.shape.reduce((a, b) => a * b, 1);
  const views = [param, grad, m, v];
  const fusable = views.every((t) => t.dtype === 'f32' && dataOf(t) instanceof Float32Array && t.shape.reduce((a, b) => a * b, 1) === n && isDenseRowMajor(t));
  if (!fusable) return null;
  const [p, g, m0, v0] = views.map((t) => dataOf(t) as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [po, go, mo, vo] = views.map((t) => t.offset) as [number, number, number, number];
  const f = Math.fround;
  const beta1 = f(h.beta1);
  const oneMinusBeta1 = f(1 - h.beta1);
  const beta2 = f(h.beta2);
  const oneMinusBeta2 = f(1 - h.beta2);
  const decay = h.weightDecay !== 0 ? f(1 - h.lr * h.weightDecay) : 1;
  const sqrtBc2 = f(Math.sqrt(h.bc2));
  const eps = f(h.eps);
  const stepSize = f(h.lr / h.bc1);
  const p2 = takeF32(n);
  const m2 = takeF32(n);
  const v2 = takeF32(n);
  const constants = { beta1, oneMinusBeta1, beta2, oneMinusBeta2, decay, sqrtBc2, eps, stepSize };
  // Parameters of every size update on the WebAssembly SIMD module (when `wasm`): the loop below took
  // 45-56 µs for a 256-element bias (~200 ns an element, isolated, quiet machine) against ~3 µs for
  // 1024 elements on the module, and a GPT step has dozens of such biases and norm weights. The module
  // writes all elements, or all but the last 0-3 (arena blocks in place), or none.
  const done = wasm ? wasmAdamwF32(n, p, po, g, go, m0, mo, v0, vo, constants, p2, m2, v2) : 0;
  for (let i = done; i < n; i++) {
    const gi = g[go + i]!;
    const mi = f(f(m0[mo + i]! * beta1) + f(gi * oneMinusBeta1));
    const vi = f(f(v0[vo + i]! * beta2) + f(f(gi * gi) * oneMinusBeta2));
    const denom = f(f(f(Math.sqrt(vi)) / sqrtBc2) + eps);
    // decay is exactly 1 without weight decay, where the composition skips the multiply: p * 1 === p.
    p2[i] = f(p[po + i]! * decay) - f(f(mi / denom) * stepSize);
    m2[i] = mi;
    v2[i] = vi;
  }
  return { param: p2, m: m2, v: v2 };
}
