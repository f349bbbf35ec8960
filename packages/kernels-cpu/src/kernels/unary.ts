// Every elementwise unary primitive is one scalar function in a table, run by one strided kernel.
// Values are computed in double precision and rounded once when stored into the output array.
import { OPS, allocTyped, numel, type OpDef } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { erf } from '../erf.js';
import { sigmoid, softplus } from '../logistic.js';
import { denseStrides, forEachRow, isDenseRowMajor } from '../strided.js';
import { takeF32 } from '../f32-array-pool.js';
import { wasmUnaryF32, type WasmUnaryOp } from '../wasm/wasm-elementwise.js';
import { F32_UNARY_LOOPS, type F32UnaryLoop } from './unary-f32.js';

/** A scalar function of one element (and the op's attributes, for clamp). */
export type UnaryFn = (x: number, attrs: any) => number;

/** The scalar function of each unary primitive. */
export const UNARY_FUNCTIONS: ReadonlyMap<OpDef, UnaryFn> = new Map<OpDef, UnaryFn>([
  [OPS.neg, (x) => -x],
  [OPS.abs, (x) => Math.abs(x)],
  [OPS.sign, (x) => Math.sign(x)],
  [OPS.exp, (x) => Math.exp(x)],
  [OPS.log, (x) => Math.log(x)],
  [OPS.log1p, (x) => Math.log1p(x)],
  [OPS.sqrt, (x) => Math.sqrt(x)],
  [OPS.rsqrt, (x) => 1 / Math.sqrt(x)],
  [OPS.sin, (x) => Math.sin(x)],
  [OPS.cos, (x) => Math.cos(x)],
  [OPS.tanh, (x) => Math.tanh(x)],
  [OPS.sigmoid, sigmoid],
  // NaN passes through relu, as in PyTorch.
  [OPS.relu, (x) => (x > 0 || x !== x ? x : 0)],
  [OPS.erf, erf],
  [OPS.softplus, softplus],
  [OPS.clamp, (x, { min, max }: { min: number; max: number }) => (x < min ? min : x > max ? max : x)],
]);

/** The strided kernel for one unary scalar function; f32 operands go through `f32Loop` when given. */
export function unaryKernel(fn: UnaryFn, f32Loop?: F32UnaryLoop, wasmOp?: WasmUnaryOp): CpuKernel {
  return ([x], attrs, out) => {
    const src = dataOf(x!);
    if (f32Loop !== undefined && out.dtype === 'f32' && src instanceof Float32Array) {
      const simd = wasmOp !== undefined ? wasmUnaryF32(wasmOp, x!, out.shape) : null;
      if (simd !== null) return simd;
      const dst = takeF32(numel(out.shape));
      forEachRow(out.shape, [denseStrides(out.shape), x!.strides], [0, x!.offset], (offs, n, inner) => f32Loop(dst, offs[0]!, src, offs[1]!, inner[1]!, n));
      return dst;
    }
    const dst = allocTyped(out.dtype, x!.shape.reduce((a, b) => a * b, 1));
    // Integer arrays truncate and wrap on assignment by themselves; only bool needs 0/1.
    const f: UnaryFn = out.dtype === 'bool' ? (v, a) => (fn(v, a) !== 0 ? 1 : 0) : fn;
    if (isDenseRowMajor(x!)) {
      // Fast path: one pass over consecutive elements.
      const off = x!.offset;
      for (let i = 0; i < dst.length; i++) dst[i] = f(src[off + i]!, attrs);
      return dst;
    }
    forEachRow(out.shape, [denseStrides(out.shape), x!.strides], [0, x!.offset], (offs, n, inner) => {
      const si = inner[1]!;
      let o = offs[0]!;
      let i = offs[1]!;
      for (let t = 0; t < n; t++, o++, i += si) dst[o] = f(src[i]!, attrs);
    });
    return dst;
  };
}

/**
 * The unary ops the WebAssembly SIMD module computes for large dense f32 inputs: the transcendental
 * ones, where the JavaScript loop pays a Math call per element. neg/abs/relu are not among them: their
 * loops already run at copy speed, and the module's copy in and out would only add to it.
 */
export const WASM_UNARY_OPS: ReadonlyMap<OpDef, WasmUnaryOp> = new Map<OpDef, WasmUnaryOp>([
  [OPS.exp, 'exp'],
  [OPS.tanh, 'tanh'],
  [OPS.sigmoid, 'sigmoid'],
]);

/** A kernel for every unary primitive, keyed by op (large dense f32 exp/tanh/sigmoid on WebAssembly SIMD). */
export const UNARY_KERNELS: ReadonlyMap<OpDef, CpuKernel> = new Map(
  [...UNARY_FUNCTIONS].map(([op, fn]) => [op, unaryKernel(fn, F32_UNARY_LOOPS.get(op), WASM_UNARY_OPS.get(op))]),
);

/** The same kernels in TypeScript only (createCpuBackend({ wasm: false })). */
export const UNARY_KERNELS_TS: ReadonlyMap<OpDef, CpuKernel> = new Map([...UNARY_FUNCTIONS].map(([op, fn]) => [op, unaryKernel(fn, F32_UNARY_LOOPS.get(op))]));
