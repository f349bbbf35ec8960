// f32 sums over the leading axes of a row-major matrix (column sums), and of each contiguous row (the
// last axis reduced), on the WebAssembly SIMD reduction module (wasm/reduce-wat.ts): whole rows stream
// through a fixed 64 KiB scratch, and the sums stay in f64 accumulators in the module's memory. The module adds each accumulator's terms in order, as
// the TypeScript folds do, so the result is bit-identical to it. The memory never grows, so its
// views never detach. Main thread only: each call runs to completion synchronously.
import { decodeBase64 } from './gemm-module.js';
import { REDUCE_WASM_BASE64 } from './reduce-bytes.js';

/** Floats of input per chunk (whole rows of it). */
const CHUNK = 16384;
/** Columns the accumulators hold (128 KiB of doubles); wider rows go in blocks of this many columns. */
export const WASM_REDUCE_MAX_COLS = 16384;
/** Byte offset of the accumulators: after the chunk and the 8 bytes the last pair of columns may read past it. */
const ACC = (CHUNK + 16) * 4;
/** Below this many elements the TypeScript fold wins (call and copy overheads). */
export const WASM_REDUCE_MIN_ELEMENTS = 4096;

interface Engine {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly sumRows: (src: number, strideBytes: number, rows: number, acc: number, n: number) => void;
  readonly sumRuns: (src: number, n: number, count: number, dst: number) => void;
}

let engine: Engine | null | undefined;

/** The instantiated module, or null where WebAssembly SIMD is unavailable. */
function reduceEngine(): Engine | null {
  if (engine !== undefined) return engine;
  try {
    const bytes = decodeBase64(REDUCE_WASM_BASE64);
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return (engine = null);
    const memory = new WebAssembly.Memory({ initial: Math.ceil((ACC + WASM_REDUCE_MAX_COLS * 8) / 65536) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const sumRows = instance.exports.sum_rows as Engine['sumRows'];
    const sumRuns = instance.exports.sum_runs as Engine['sumRuns'];
    engine = { f32: new Float32Array(memory.buffer), f64: new Float64Array(memory.buffer), sumRows, sumRuns };
  } catch {
    engine = null;
  }
  return engine;
}

let moduleCalls = 0;
/** Calls that ran on the module so far (tests check that a kernel took it). */
export const wasmReduceCalls = (): number => moduleCalls;

/**
 * Adds `rows` rows of `cols` f32 elements (row r at `src[offset + r * rowStride]`, contiguous) into
 * `acc[0..cols)` in row order, or returns false (nothing touched) where the module is unavailable.
 * Rows wider than the accumulators go in blocks of columns.
 */
export function wasmSumRowsF32(acc: Float64Array, src: Float32Array, offset: number, rows: number, rowStride: number, cols: number): boolean {
  const e = reduceEngine();
  if (e === null) return false;
  moduleCalls++;
  for (let j = 0; j < cols; j += WASM_REDUCE_MAX_COLS) sumColumns(e, acc, j, src, offset + j, rows, rowStride, Math.min(WASM_REDUCE_MAX_COLS, cols - j));
  return true;
}

/**
 * Copies `count` rows of `cols` floats, `rowStride` apart from `src[start]`, densely to the start of the
 * scratch: dense rows with one copy, rows further apart (a sliced view, a block of columns) one each.
 */
function stageRows(f32: Float32Array, src: Float32Array, start: number, count: number, rowStride: number, cols: number): void {
  if (rowStride === cols) f32.set(src.subarray(start, start + count * cols), 0);
  else for (let k = 0; k < count; k++) f32.set(src.subarray(start + k * rowStride, start + k * rowStride + cols), k * cols);
}

/** Adds the rows' `cols` columns from `src[offset]` into `acc[j..j + cols)` (cols within the accumulators). */
function sumColumns({ f32, f64, sumRows }: Engine, acc: Float64Array, j: number, src: Float32Array, offset: number, rows: number, rowStride: number, cols: number): void {
  const accAt = ACC / 8;
  f64.set(acc.subarray(j, j + cols), accAt);
  const perChunk = Math.floor(CHUNK / cols);
  for (let r = 0; r < rows; r += perChunk) {
    const count = Math.min(perChunk, rows - r);
    const start = offset + r * rowStride;
    stageRows(f32, src, start, count, rowStride, cols);
    sumRows(0, cols * 4, count, ACC, cols);
  }
  acc.set(f64.subarray(accAt, accAt + cols), j);
}

/** Runs shorter than this stay in TypeScript (a row of a few elements is all call and copy). */
export const WASM_REDUCE_MIN_RUN = 16;

/**
 * Adds the sum of each of `rows` contiguous runs of `n` f32 elements (run r at `src[offset + r *
 * rowStride]`) to `acc[r]`, summed as the TypeScript row fold sums a run, or returns false
 * (nothing touched) where the module is unavailable or a run is longer than its scratch.
 */
export function wasmSumRunsF32(acc: Float64Array, src: Float32Array, offset: number, rows: number, rowStride: number, n: number): boolean {
  if (n > CHUNK || n === 0) return false;
  const e = reduceEngine();
  if (e === null) return false;
  moduleCalls++;
  const { f32, f64, sumRuns } = e;
  const accAt = ACC / 8;
  const perChunk = Math.floor(CHUNK / n);
  for (let r = 0; r < rows; r += perChunk) {
    const count = Math.min(perChunk, rows - r);
    const start = offset + r * rowStride;
    stageRows(f32, src, start, count, rowStride, n);
    sumRuns(0, n, count, ACC);
    for (let k = 0; k < count; k++) acc[r + k] = acc[r + k]! + f64[accAt + k]!;
  }
  return true;
}
