// Every broadcasting binary primitive is one scalar function in a table, run by one strided kernel.
import { OPS, allocTyped, numel, type DType, type OpDef, type Shape, type TensorView } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { broadcastStrides, denseStrides, forEachRow, isDenseRowMajor } from '../strided.js';
import { takeF32 } from '../f32-array-pool.js';
import { wasmBinaryF32, type WasmBinaryOp } from '../wasm/wasm-elementwise.js';
import { F32_ROW_LOOPS, type F32RowLoop } from './binary-f32.js';

/** A scalar function of two elements. */
export type BinaryFn = (a: number, b: number) => number;

/** a ** b with C's pow edge cases (1 ** NaN = 1, (-1) ** ±Inf = 1), which JS's Math.pow lacks. */
export function pow(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

/** The scalar function of each binary primitive. */
export const BINARY_FUNCTIONS: ReadonlyMap<OpDef, BinaryFn> = new Map<OpDef, BinaryFn>([
  [OPS.add, (a, b) => a + b],
  [OPS.sub, (a, b) => a - b],
  [OPS.mul, (a, b) => a * b],
  [OPS.div, (a, b) => a / b],
  [OPS.pow, pow],
  // Math.max/min propagate NaN, as torch.maximum/minimum do.
  [OPS.maximum, (a, b) => Math.max(a, b)],
  [OPS.minimum, (a, b) => Math.min(a, b)],
  [OPS.eq, (a, b) => (a === b ? 1 : 0)],
  [OPS.ne, (a, b) => (a !== b ? 1 : 0)],
  [OPS.lt, (a, b) => (a < b ? 1 : 0)],
  [OPS.le, (a, b) => (a <= b ? 1 : 0)],
  [OPS.gt, (a, b) => (a > b ? 1 : 0)],
  [OPS.ge, (a, b) => (a >= b ? 1 : 0)],
]);

/** Ops whose scalar function already returns 0 or 1. */
const BOOL_VALUED = new Set<OpDef>([OPS.eq, OPS.ne, OPS.lt, OPS.le, OPS.gt, OPS.ge]);

// A double product of two 32-bit integers can exceed 2^53 and lose the low bits that wrapping keeps.
const imul: BinaryFn = (a, b) => Math.imul(a, b);

/**
 * The function to run for `op` from inputs of `dtype` to an output of `outDtype`: exact wrapping
 * multiplication for 32-bit integers, and 0/1 results for bool outputs (true + true is true).
 */
function functionFor(op: OpDef, fn: BinaryFn, dtype: DType, outDtype: DType): BinaryFn {
  const f = op === OPS.mul && (dtype === 'i32' || dtype === 'u32') ? imul : fn;
  return outDtype === 'bool' && !BOOL_VALUED.has(op) ? (a, b) => (f(a, b) !== 0 ? 1 : 0) : f;
}

/** Runs an f32 row loop over the broadcast of `a` and `b`: one call for a dense or scalar-broadcast op, one per row otherwise. */
function runF32(loop: F32RowLoop, a: TensorView, b: TensorView, shape: Shape): Float32Array {
  const dst = takeF32(numel(shape));
  const x = dataOf(a) as Float32Array;
  const y = dataOf(b) as Float32Array;
  const strides = [denseStrides(shape), broadcastStrides(a, shape), broadcastStrides(b, shape)];
  forEachRow(shape, strides, [0, a.offset, b.offset], (offs, n, inner) => loop(dst, offs[0]!, x, offs[1]!, inner[1]!, y, offs[2]!, inner[2]!, n));
  return dst;
}

/**
 * The strided, broadcasting kernel for one binary op; f32 operands go through the WebAssembly SIMD
 * module for `wasmOp` where it applies (large dense, scalar or row-vector operands), else `f32Loop`.
 */
export function binaryKernel(op: OpDef, fn: BinaryFn, f32Loop?: F32RowLoop, wasmOp?: WasmBinaryOp): CpuKernel {
  return ([a, b], _attrs, out) => {
    if (f32Loop !== undefined && out.dtype === 'f32' && dataOf(a!) instanceof Float32Array && dataOf(b!) instanceof Float32Array) {
      return (wasmOp !== undefined ? wasmBinaryF32(wasmOp, a!, b!, out.shape) : null) ?? runF32(f32Loop, a!, b!, out.shape);
    }
    const f = functionFor(op, fn, a!.dtype, out.dtype);
    const x = dataOf(a!);
    const y = dataOf(b!);
    const dst = allocTyped(out.dtype, numel(out.shape));
    const sameShape = a!.shape.length === out.shape.length && b!.shape.length === out.shape.length &&
      out.shape.every((d, i) => a!.shape[i] === d && b!.shape[i] === d);
    if (sameShape && isDenseRowMajor(a!) && isDenseRowMajor(b!)) {
      // Fast path: both operands dense and unbroadcast.
      const ao = a!.offset;
      const bo = b!.offset;
      for (let i = 0; i < dst.length; i++) dst[i] = f(x[ao + i]!, y[bo + i]!);
      return dst;
    }
    const strides = [denseStrides(out.shape), broadcastStrides(a!, out.shape), broadcastStrides(b!, out.shape)];
    forEachRow(out.shape, strides, [0, a!.offset, b!.offset], (offs, n, inner) => {
      const sa = inner[1]!;
      const sb = inner[2]!;
      let o = offs[0]!;
      let i = offs[1]!;
      let j = offs[2]!;
      for (let t = 0; t < n; t++, o++, i += sa, j += sb) dst[o] = f(x[i]!, y[j]!);
    });
    return dst;
  };
}

/** The ops the WebAssembly SIMD elementwise module implements. */
export const WASM_BINARY_OPS: ReadonlyMap<OpDef, WasmBinaryOp> = new Map<OpDef, WasmBinaryOp>([
  [OPS.add, 'add'],
  [OPS.sub, 'sub'],
  [OPS.mul, 'mul'],
  [OPS.div, 'div'],
]);

/** A kernel for every binary primitive, keyed by op (f32 add/sub/mul/div use WebAssembly SIMD where available). */
export const BINARY_KERNELS: ReadonlyMap<OpDef, CpuKernel> = new Map(
  [...BINARY_FUNCTIONS].map(([op, fn]) => [op, binaryKernel(op, fn, F32_ROW_LOOPS.get(op), WASM_BINARY_OPS.get(op))]),
);

/** The same kernels in TypeScript only (createCpuBackend({ wasm: false })). */
export const BINARY_KERNELS_TS: ReadonlyMap<OpDef, CpuKernel> = new Map([...BINARY_FUNCTIONS].map(([op, fn]) => [op, binaryKernel(op, fn, F32_ROW_LOOPS.get(op))]));
