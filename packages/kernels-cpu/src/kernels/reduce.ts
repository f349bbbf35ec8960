// sum, max and min over any set of axes. The walk follows the input's own layout (cache friendly),
// with the output described by strides that are 0 along reduced axes, so each input element lands
// on its output slot. Accumulators are doubles: f32 sums gain precision, integers stay exact.
import { allocTyped, numel, type ReduceAttrs, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, storeFor, type CpuKernel } from '../cpu-kernel.js';
import { takeF32 } from '../f32-array-pool.js';
import { collapseDims, denseStrides, forEachRow, type StridedPlan } from '../strided.js';
import { WASM_REDUCE_MIN_ELEMENTS, WASM_REDUCE_MIN_RUN, wasmSumRowsF32, wasmSumRunsF32 } from '../wasm/wasm-reduce.js';

/**
 * How a reduction folds, as two loops written per fold so the operation inlines (a shared
 * `step(acc, x)` call site sees every fold's function and stays a call per element):
 * `row` folds a run of elements along a reduced axis into one value; `across` folds a run of
 * elements into a run of accumulators (a kept axis innermost, as when summing a broadcast gradient
 * over its leading axes).
 */
interface Fold {
  readonly init: number;
  readonly row: (acc: number, src: TypedArray, i: number, si: number, n: number) => number;
  readonly across: (acc: Float64Array, o: number, so: number, src: TypedArray, i: number, si: number, n: number) => void;
  /** Folds `rows` contiguous runs of `n` elements, `rowStride` apart, into the `n` accumulators from `o` (default: `across` per row). */
  readonly rows?: (acc: Float64Array, o: number, src: TypedArray, i: number, rowStride: number, rows: number, n: number) => void;
}

// A NaN wins and then stays (NaN compares false both ways), as in PyTorch.
const SUM: Fold = {
  init: 0,
  row: (a, src, i, si, n) => a + sumRun(src, i, si, n),
  across: (acc, o, so, src, i, si, n) => {
    if (so === 1 && si === 1) for (const end = o + n; o < end; o++, i++) acc[o] += src[i]!;
    else for (let t = 0; t < n; t++, o += so, i += si) acc[o] += src[i]!;
  },
  rows: (acc, o, src, i, rowStride, rows, n) => {
    // Four rows per pass: each accumulator is loaded and stored once per four elements instead of
    // once per element, and still adds its rows in order (the same double result as row by row).
    let r = 0;
    for (; r + 4 <= rows; r += 4, i += 4 * rowStride) {
      const i1 = i + rowStride;
      const i2 = i1 + rowStride;
      const i3 = i2 + rowStride;
      for (let t = 0; t < n; t++) acc[o + t] = acc[o + t]! + src[i + t]! + src[i1 + t]! + src[i2 + t]! + src[i3 + t]!;
    }
    for (; r < rows; r++, i += rowStride) for (let t = 0; t < n; t++) acc[o + t] += src[i + t]!;
  },
};

/**
 * The sum of a run in four interleaved partial sums: one double accumulator is a chain of dependent
 * adds (~4 cycles each), which bounded a 64- to 1024-element row at ~1 ns an element. The order
 * differs from left to right, within double rounding (far below an f32 result's last bit).
 */
function sumRun(src: TypedArray, i: number, si: number, n: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let t = 0;
  for (const step = 4 * si; t + 4 <= n; t += 4, i += step) {
    a0 += src[i]!;
    a1 += src[i + si]!;
    a2 += src[i + 2 * si]!;
    a3 += src[i + 3 * si]!;
  }
  for (; t < n; t++, i += si) a0 += src[i]!;
  return a0 + a1 + (a2 + a3);
}
const MAX: Fold = {
  init: -Infinity,
  row: (a, src, i, si, n) => {
    for (let t = 0; t < n; t++, i += si) {
      const x = src[i]!;
      if (x > a || x !== x) a = x;
    }
    return a;
  },
  across: (acc, o, so, src, i, si, n) => {
    for (let t = 0; t < n; t++, o += so, i += si) {
      const x = src[i]!;
      if (x > acc[o]! || x !== x) acc[o] = x;
    }
  },
};
const MIN: Fold = {
  init: Infinity,
  row: (a, src, i, si, n) => {
    for (let t = 0; t < n; t++, i += si) {
      const x = src[i]!;
      if (x < a || x !== x) a = x;
    }
    return a;
  },
  across: (acc, o, so, src, i, si, n) => {
    for (let t = 0; t < n; t++, o += so, i += si) {
      const x = src[i]!;
      if (x < acc[o]! || x !== x) acc[o] = x;
    }
  },
};

/** Strides over `x`'s shape that address the reduced output: 0 on reduced axes, dense elsewhere. */
export function reducedOutputStrides(x: TensorView, axes: readonly number[]): number[] {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return denseStrides(kept).map((s, i) => (axes.includes(i) ? 0 : s));
}

/** Accumulators per block of a leading-axes reduction: 16 KiB of doubles, well inside L1. */
const ACROSS_BLOCK = 2048;

/** Folds f32 inputs elsewhere (the WebAssembly module), or returns false to leave them to the fold. */
interface WasmFold {
  /** Rows of `cols` into `cols` accumulators (leading axes reduced). */
  readonly rows: (acc: Float64Array, src: Float32Array, offset: number, rows: number, rowStride: number, cols: number) => boolean;
  /** Each contiguous run of `n` into its own accumulator (the last axis reduced). */
  readonly runs: (acc: Float64Array, src: Float32Array, offset: number, rows: number, rowStride: number, n: number) => boolean;
}

/**
 * Folds an f32 input on the module when its merged layout is a matrix of contiguous rows with the
 * leading axis reduced (rows into column accumulators) or the last (each row into its own); false
 * leaves it to the TypeScript loops.
 */
function foldOnWasm(wasm: WasmFold, acc: Float64Array, src: Float32Array, offset: number, { shape, strides }: StridedPlan): boolean {
  const [os, xs] = strides as [number[], number[]];
  if (shape.length !== 2 || xs[1] !== 1 || shape[0]! * shape[1]! < WASM_REDUCE_MIN_ELEMENTS) return false;
  const [rows, n] = shape as [number, number];
  if (os[0] === 0 && os[1] === 1) return wasm.rows(acc, src, offset, rows, xs[0]!, n);
  if (os[0] === 1 && os[1] === 0 && n >= WASM_REDUCE_MIN_RUN) return wasm.runs(acc, src, offset, rows, xs[0]!, n);
  return false;
}

/** The strided kernel for one reduction fold; `wasm` takes the f32 layouts it handles. */
function reduceKernel({ init, row, across, rows: foldRows }: Fold, wasm?: WasmFold): CpuKernel<ReduceAttrs> {
  return ([x], { axes }, out) => {
    const src = dataOf(x!);
    const acc = new Float64Array(numel(out.shape)).fill(init);
    const outStrides = reducedOutputStrides(x!, axes);
    const plan = collapseDims(x!.shape, [outStrides, x!.strides]);
    const [os, xs] = plan.strides as [number[], number[]];
    if (wasm !== undefined && src instanceof Float32Array && foldOnWasm(wasm, acc, src, x!.offset, plan)) {
      // Summed on the SIMD module (the same additions in the same order as the loops below).
    } else if (plan.shape.length === 2 && os[0] === 0 && os[1] === 1 && xs[1] === 1) {
      // Leading axes reduced, a contiguous kept run innermost (a broadcast gradient summed to its
      // shape): fold block by block, so each block of accumulators stays in cache across the rows.
      // Every accumulator still folds its rows in order, so results match the plain walk.
      const [rows, cols] = plan.shape as [number, number];
      for (let j = 0; j < cols; j += ACROSS_BLOCK) {
        const len = Math.min(ACROSS_BLOCK, cols - j);
        if (foldRows !== undefined) foldRows(acc, j, src, x!.offset + j, xs[0]!, rows, len);
        else for (let r = 0, i = x!.offset + j; r < rows; r++, i += xs[0]!) across(acc, j, 1, src, i, 1, len);
      }
    } else forEachRow(x!.shape, [outStrides, x!.strides], [0, x!.offset], (offs, n, inner) => {
      const o = offs[0]!;
      // A row along a reduced axis folds into one accumulator held in a local.
      if (inner[0] === 0) acc[o] = row(acc[o]!, src, offs[1]!, inner[1]!, n);
      else across(acc, o, inner[0]!, src, offs[1]!, inner[1]!, n);
    });
    const dst = out.dtype === 'f32' ? takeF32(acc.length) : allocTyped(out.dtype, acc.length);
    // set() rounds to f32 and wraps integers as assignment does; only bool needs its 0/1.
    if (out.dtype === 'bool') {
      const store = storeFor(out.dtype);
      for (let i = 0; i < acc.length; i++) dst[i] = store(acc[i]!);
    } else dst.set(acc);
    return dst;
  };
}

/** Sums over `axes` (an empty reduction gives 0); f32 sums over leading axes or along contiguous rows run on the WebAssembly SIMD module where available. */
export const sumKernel = reduceKernel(SUM, { rows: wasmSumRowsF32, runs: wasmSumRunsF32 });
/** The same sums in TypeScript only (createCpuBackend({ wasm: false })). */
export const sumKernelTs = reduceKernel(SUM);
/** Largest value over `axes`; NaN propagates. */
export const maxKernel = reduceKernel(MAX);
/** Smallest value over `axes`; NaN propagates. */
export const minKernel = reduceKernel(MIN);
