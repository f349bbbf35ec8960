// GELU (tanh form), layerNorm, rmsNorm, the cross-entropy losses and logits gradient for dense
// row-major f32 operands; anything else goes to the kernels in gelu.ts, layer-norm.ts, rms-norm.ts and
// cross-entropy.ts. By default they run on the WebAssembly SIMD module (row-tasks.ts's simdRowsTask).
// Where the module is unavailable (or with `simd: false`), scalar row tasks split across the gemm
// worker pool: the calling thread computes the first 1/threads of the units (elements or rows)
// straight from the tensors' arrays into the result; the other units' operands are copied into the
// pool's shared WebAssembly memory, the workers compute them there, and their results are copied out.
// Small jobs (below MIN_SPLIT_ELEMENTS) stay on the calling thread, still on the dense row tasks,
// which run faster than the strided walkers of the general kernels. Large SIMD jobs split the same
// way, but only where the workers can read and write the large operands in place (arena blocks; see
// simdMinElements).
import { numel, OPS, type OpDef, type TensorView } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { broadcastStrides, denseStrides, forEachRow, isDenseRowMajor } from '../strided.js';
import { ROW_TASKS, SIMD_KIND, SIMD_TASK_LAYOUT, TASK, type RowsEngine, type RowTask } from '../wasm/row-tasks.js';
import { SCRATCH_END, SHARED_ROW_SLOTS, arenaBlock } from '../wasm/f32-arena.js';
import { elementwiseEngine, elementwiseEngineBytes, sharedElementwise } from '../wasm/wasm-elementwise.js';
import type { WasmGemm } from '../wasm/wasm-gemm.js';
import { targetOf } from './cross-entropy.js';

/**
 * Below this many result elements a job stays on the calling thread. From costs, not a quiet-machine
 * measurement (none was quiet while this was written): waking a worker costs ~10-50 µs and the copies
 * ~1 ns per element, while GELU costs ~15 ns per element and layerNorm ~6, so at 32K elements the
 * workers' half saves ~100-250 µs. At load ~7-10 splitting did not pay at any size up to 1M elements
 * (min of many runs: 0.54 vs 0.47 ms at 32K, 1.95 vs 1.76 at 131K); SplitGauge handles that case.
 */
export const MIN_SPLIT_ELEMENTS = 1 << 15;
/**
 * The end of the scratch the workers' copies may use: the f32 arena's blocks (live tensors) start at
 * ARENA_BASE in the same memory, with the shared elementwise module's slots just below it, so a larger
 * job stays on the calling thread rather than overwrite them.
 */
const MAX_BYTES = SCRATCH_END;
const PAGE = 65536;

/**
 * An operand of a row task: `per` elements per unit from `offset` (x, dy, per-row targets), or, with
 * per = 0, `whole` elements every unit reads (a norm's weight and bias).
 */
interface Operand {
  readonly data: Float32Array;
  readonly offset: number;
  readonly per: number;
  readonly whole: number;
}

const perUnit = (data: Float32Array, offset: number, per: number): Operand => ({ data, offset, per, whole: 0 });
const whole = (data: Float32Array, offset: number, n: number): Operand => ({ data, offset, per: 0, whole: n });

/** Options for the split: the engine whose pool to use (null: calling thread only), the split threshold, and the kernels for every other case. */
export interface RowSplit {
  readonly gemm: (() => WasmGemm) | null;
  readonly minElements: number;
  readonly fallback: (op: OpDef) => CpuKernel;
  /** Back off to the calling thread while the workers come late (see SplitGauge); tests turn it off to split every job. */
  readonly adaptive: boolean;
  /**
   * Run the dense cases on the WebAssembly SIMD module (row-tasks.ts's simdRowsTask) instead of the
   * scalar tasks (default true; the scalar tasks run where the module is unavailable). Interleaved at
   * load ~1.5, medians: gelu 1M 9.8 -> 2.2 ms, its gradient 13.3 -> 3.3, crossEntropyBackward
   * 1024x4096 47.9 -> 9.3.
   */
  readonly simd?: boolean;
  /**
   * From this many elements a SIMD job splits across the pool (default 4 * minElements: a SIMD unit
   * costs ~4x less than a scalar one), and only when its per-unit operands and its result are blocks
   * of the arena (wasm/f32-arena.ts), which the workers read and write in place. Copying the workers'
   * share in and out on the calling thread cost more than their half saved (interleaved at load ~1.5,
   * medians, caller alone vs split with copies: gelu 1M 2.16 vs 2.49 ms, crossEntropyBackward
   * 1024x4096 9.25 vs 13.31); in place (load ~1.8): crossEntropyBackward 11.9 -> 6.4 ms,
   * crossEntropyLosses 7.5 -> 4.2, GELU and layerNorm on par (gelu 2.20 vs 2.29). Tests set 0.
   */
  readonly simdMinElements?: number;
}

/** Jobs kept on the calling thread after one whose workers came late, before splitting is tried again. */
export const BACKOFF_JOBS = 32;

/**
 * Whether splitting pays on this machine right now. On an oversubscribed machine a worker is often
 * not scheduled for milliseconds after it is woken, and the caller, done with its share, sleeps until
 * the worker has done the rest: the split then takes longer than the whole job on one thread (at load
 * ~7 on 2 cores, GELU + layerNorm over 131K elements: 1.95 ms split vs 1.76 ms on the caller). When the
 * caller waited longer than its own share took, the next BACKOFF_JOBS jobs stay on the calling thread.
 */
export class SplitGauge {
  private skip = 0;

  /** True when the next eligible job should be split. */
  split(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  /** Records a split job: the caller's own share and its wait for the workers afterwards, in ms. */
  record(ownMs: number, waitMs: number): void {
    if (waitMs > ownMs) this.skip = BACKOFF_JOBS;
  }
}

const GAUGES = new WeakMap<WasmGemm, SplitGauge>();

/** The SIMD module's bytes (the build the calling thread runs), from which a worker compiles its own instance. */
const moduleBytes = (): Uint8Array => elementwiseEngineBytes()!;

let rowsEngine: RowsEngine | null | undefined;
/** The calling thread's instance of the SIMD module for simdRowsTask, or null where it is unavailable. */
function callerEngine(): RowsEngine | null {
  if (rowsEngine !== undefined) return rowsEngine;
  const e = elementwiseEngine();
  return (rowsEngine = e && { f32: e.f32, fn: e.exports as unknown as RowsEngine['fn'] });
}

/**
 * Runs `count` units of a row kernel into `dst` (dense, `per` elements a unit from element 0): with
 * the calling thread's SIMD `engine` (see simdEngine) as simdRowsTask's `kind` (SIMD_KIND), the workers
 * on their own instances; without, as the scalar row task `task` (null where the kernel has none: its
 * caller then passes an engine). The caller's share runs on the arrays themselves, the rest on the
 * pool's workers (see runUnits).
 */
function runRows(split: RowSplit, engine: RowsEngine | null, task: number | null, kind: number, count: number, per: number, dst: Float32Array, ops: readonly (Operand | null)[], n: number, floats: readonly number[]): void {
  if (engine) runUnits(split, TASK.simdRows, { kind, engine }, count, per, dst, ops, n, floats);
  else runUnits(split, task!, null, count, per, dst, ops, n, floats);
}

/**
 * The calling thread's engine for a SIMD job: with the in-place instance (RowsEngine.shared) where the
 * result or the first operand is an arena block, so its share reads and writes the blocks where they are.
 */
function callerShare(engine: RowsEngine, dst: Float32Array, arrays: readonly Float32Array[]): RowsEngine {
  const at = [dst, ...arrays].map((a) => arenaBlock(a)?.byte ?? -1);
  if (at[0]! < 0 && at[1]! < 0) return engine;
  const shared = sharedElementwise();
  if (shared === null) return engine;
  return { ...engine, shared: { fn: shared.fn as unknown as RowsEngine['fn'], f32: shared.f32, at, w: SHARED_ROW_SLOTS.w, bias: SHARED_ROW_SLOTS.bias } };
}

function runUnits(split: RowSplit, task: number, simd: { kind: number; engine: RowsEngine } | null, count: number, per: number, dst: Float32Array, ops: readonly (Operand | null)[], n: number, floats: readonly number[]): void {
  const rowTask = ROW_TASKS[task]!;
  const arrays = ops.map((op) => op?.data ?? dst);
  const ownEngine = simd && callerShare(simd.engine, dst, arrays);
  const fn: RowTask = ownEngine ? (d, x, y, z, o, f, s, e) => rowTask(d, x, y, z, o, f, s, e, ownEngine) : rowTask;
  const own = [0, ...ops.map((op) => op?.offset ?? -1), n, ...(simd ? [simd.kind, 0, 0] : [])];
  // A SIMD job splits only where the workers can read its large operands and write a large result in
  // place (arena blocks): copying their share in and out on the calling thread cost more than it
  // saved. Small ones (a sixteenth of a unit's work or less: a row's target, its loss) are copied.
  const work = Math.max(per, n);
  const inPlace = (data: Float32Array, perUnit: number): boolean => perUnit * 16 <= work || arenaBlock(data) !== null;
  const splittable = !simd || (inPlace(dst, per) && ops.every((op) => op === null || op.per === 0 || inPlace(op.data, op.per)));
  const minElements = simd ? (split.simdMinElements ?? 4 * split.minElements) : split.minElements;
  const engine = split.gemm !== null && splittable && count >= 2 && count * work >= minElements ? split.gemm() : null;
  let gauge = engine && GAUGES.get(engine);
  if (engine && !gauge) GAUGES.set(engine, (gauge = new SplitGauge()));
  const pool = engine !== null && engine.threads > 1 && (!split.adaptive || gauge!.split()) ? engine.startWorkers() : null;
  if (pool === null || pool.threads < 2 || !pool.usable) {
    fn(dst, arrays[0]!, arrays[1]!, arrays[2]!, own, floats, 0, count);
    return;
  }
  const first = Math.floor(count / pool.threads);
  const rest = count - first;
  // Float offsets of each region, 16-float (64-byte) aligned from float 16; a region holds only the
  // units the workers compute, so its element offset is shifted back by `first` units. Operands and a
  // result that are blocks of the arena (wasm/f32-arena.ts) already lie in the pool's memory: the
  // workers read and write them where they are, with no region and no copy.
  let at = 16;
  const place = (floats: number): number => {
    const start = at;
    at += Math.ceil(floats / 16) * 16;
    return start;
  };
  const dBlock = arenaBlock(dst);
  const blocks = ops.map((op) => (op !== null && op.per > 0 ? arenaBlock(op.data) : null));
  const dRegion = dBlock ? -1 : place(rest * per);
  const regions = ops.map((op, j) => (op === null || blocks[j] ? -1 : place(op.per > 0 ? rest * op.per : op.whole)));
  // The SIMD module's bytes, from which a worker compiles its own instance the first time.
  const bytes = simd ? moduleBytes() : null;
  const bytesRegion = bytes ? place(Math.ceil(bytes.length / 4)) : -1;
  if (at * 4 > MAX_BYTES) {
    fn(dst, arrays[0]!, arrays[1]!, arrays[2]!, own, floats, 0, count);
    return;
  }
  const memory = pool.memory;
  const have = memory.buffer.byteLength;
  if (at * 4 > have) memory.grow(Math.ceil((at * 4 - have) / PAGE));
  const mem = new Float32Array(memory.buffer);
  const theirs = [dBlock ? dBlock.byte / 4 : dRegion - first * per];
  ops.forEach((op, j) => {
    const r = regions[j]!;
    if (op === null) return void theirs.push(-1);
    const block = blocks[j];
    if (block) theirs.push(block.byte / 4 + op.offset);
    else if (op.per > 0) {
      mem.set(op.data.subarray(op.offset + first * op.per, op.offset + count * op.per), r);
      theirs.push(r - first * op.per);
    } else {
      mem.set(op.data.subarray(op.offset, op.offset + op.whole), r);
      theirs.push(r);
    }
  });
  theirs.push(n);
  if (simd) {
    new Uint8Array(memory.buffer, bytesRegion * 4, bytes!.length).set(bytes!);
    theirs.push(simd.kind, bytesRegion, bytes!.length);
  }
  let ownMs = 0;
  const t0 = performance.now();
  pool.runTask(task, theirs, floats, count, (s, e) => {
    fn(dst, arrays[0]!, arrays[1]!, arrays[2]!, own, floats, s, e);
    ownMs = performance.now() - t0;
  });
  gauge!.record(ownMs, performance.now() - t0 - ownMs);
  if (!dBlock) dst.set(mem.subarray(dRegion, dRegion + rest * per), first * per);
}

/** The calling thread's SIMD instance when `split` runs the SIMD tasks, else null (the scalar tasks run). */
const simdEngine = (split: RowSplit): RowsEngine | null => (split.simd !== false ? callerEngine() : null);

/** The view's f32 array when it holds `n` elements densely in row-major order, else null. */
function denseF32(v: TensorView | undefined, n: number): Float32Array | null {
  if (v === undefined || v.dtype !== 'f32' || numel(v.shape) !== n || !isDenseRowMajor(v)) return null;
  const data = dataOf(v);
  return data instanceof Float32Array ? data : null;
}

type GeluAttrs = { approximate: 'none' | 'tanh' };
type LayerNormAttrs = { eps: number; hasWeight: boolean; hasBias: boolean };
type CrossEntropyAttrs = { ignoreIndex: number; labelSmoothing: number };

function gelu(split: RowSplit): CpuKernel<GeluAttrs> {
  const fallback = split.fallback(OPS.gelu);
  return (inputs, attrs, out) => {
    const size = numel(out.shape);
    const x = denseF32(inputs[0], size);
    if (attrs.approximate !== 'tanh' || out.dtype !== 'f32' || x === null) return fallback(inputs, attrs, out);
    const dst = resultArray('f32', size) as Float32Array;
    runRows(split, simdEngine(split), TASK.geluTanh, SIMD_KIND.geluTanh, size, 1, dst, [perUnit(x, inputs[0]!.offset, 1), null, null], 1, []);
    return dst;
  };
}

function geluBackward(split: RowSplit): CpuKernel<GeluAttrs> {
  const fallback = split.fallback(OPS.geluBackward);
  return (inputs, attrs, out) => {
    const size = numel(out.shape);
    const x = denseF32(inputs[0], size);
    const g = denseF32(inputs[1], size);
    if (attrs.approximate !== 'tanh' || out.dtype !== 'f32' || x === null || g === null) return fallback(inputs, attrs, out);
    const dst = resultArray('f32', size) as Float32Array;
    runRows(split, simdEngine(split), TASK.geluTanhBackward, SIMD_KIND.geluTanhBackward, size, 1, dst, [perUnit(x, inputs[0]!.offset, 1), perUnit(g, inputs[1]!.offset, 1), null], 1, []);
    return dst;
  };
}

/** The dense f32 operands of a layerNorm (x, then weight and bias of n elements each where present), or null. */
function normOperands(inputs: readonly TensorView[], size: number, n: number, hasWeight: boolean, extra: number): (Operand | null)[] | null {
  const x = denseF32(inputs[0], size);
  const rowOps = Array.from({ length: extra }, (_, i) => denseF32(inputs[1 + i], size));
  const w = hasWeight ? denseF32(inputs[1 + extra], n) : null;
  if (x === null || rowOps.some((r) => r === null) || (hasWeight && w === null)) return null;
  return [perUnit(x, inputs[0]!.offset, n), ...rowOps.map((r, i) => perUnit(r!, inputs[1 + i]!.offset, n)), w && whole(w, inputs[1 + extra]!.offset, n)];
}

function layerNorm(split: RowSplit): CpuKernel<LayerNormAttrs> {
  const fallback = split.fallback(OPS.layerNorm);
  return (inputs, attrs, out) => {
    const size = numel(out.shape);
    const n = out.shape[out.shape.length - 1] ?? 0;
    const ops = out.dtype === 'f32' && n > 0 ? normOperands(inputs, size, n, attrs.hasWeight, 0) : null;
    const b = attrs.hasBias ? denseF32(inputs[attrs.hasWeight ? 2 : 1], n) : null;
    if (ops === null || (attrs.hasBias && b === null)) return fallback(inputs, attrs, out);
    const dst = resultArray('f32', size) as Float32Array;
    const bias = b && whole(b, inputs[attrs.hasWeight ? 2 : 1]!.offset, n);
    const e = n <= SIMD_TASK_LAYOUT.CHUNK ? simdEngine(split) : null;
    runRows(split, e, TASK.layerNorm, SIMD_KIND.layerNorm, size / n, n, dst, [ops[0]!, ops[1]!, bias], n, [attrs.eps]);
    return dst;
  };
}

function layerNormBackward(split: RowSplit): CpuKernel<{ eps: number; hasWeight: boolean }> {
  const fallback = split.fallback(OPS.layerNormBackward);
  return (inputs, attrs, out) => {
    const size = numel(out.shape);
    const n = out.shape[out.shape.length - 1] ?? 0;
    const ops = out.dtype === 'f32' && n > 0 ? normOperands(inputs, size, n, attrs.hasWeight, 1) : null;
    if (ops === null) return fallback(inputs, attrs, out);
    const dst = resultArray('f32', size) as Float32Array;
    const e = n <= SIMD_TASK_LAYOUT.CHUNK ? simdEngine(split) : null;
    runRows(split, e, TASK.layerNormBackward, SIMD_KIND.layerNormBackward, size / n, n, dst, ops, n, [attrs.eps]);
    return dst;
  };
}

/**
 * rmsNorm (`extra` 0) or its input gradient (`extra` 1, dy) on the SIMD module, bit for bit
 * kernels/rms-norm.ts for dense f32 operands (which that kernel keeps otherwise, and where the module
 * is unavailable: there is no scalar row task for it).
 */
function rmsNormRows(split: RowSplit, op: OpDef, kind: number, extra: number): CpuKernel<{ eps: number; hasWeight: boolean }> {
  const fallback = split.fallback(op);
  return (inputs, attrs, out) => {
    const size = numel(out.shape);
    const n = out.shape[out.shape.length - 1] ?? 0;
    const ops = out.dtype === 'f32' && n > 0 && n <= SIMD_TASK_LAYOUT.CHUNK ? normOperands(inputs, size, n, attrs.hasWeight, extra) : null;
    const e = ops && simdEngine(split);
    if (ops === null || !e) return fallback(inputs, attrs, out);
    const dst = resultArray('f32', size) as Float32Array;
    runRows(split, e, null, kind, size / n, n, dst, extra ? ops : [ops[0]!, ops[1]!, null], n, [attrs.eps]);
    return dst;
  };
}

/**
 * Each row's target (checked here, on the calling thread, so an invalid one raises the usual
 * RangeError; -1 when ignored) and, with g, each row's gradient, gathered densely from any strides or
 * broadcast.
 */
function rowTargets(logits: TensorView, targets: TensorView, g: TensorView | null, c: number, ignoreIndex: number): { tg: Float32Array; gr: Float32Array } {
  const rows = logits.shape.slice(0, -1);
  const count = numel(rows);
  const tg = new Float32Array(count);
  const gr = new Float32Array(g ? count : 0);
  const td = dataOf(targets);
  const gd = g ? dataOf(g) : gr;
  const strides = [denseStrides(rows), broadcastStrides(targets, rows), g ? broadcastStrides(g, rows) : rows.map(() => 0)];
  forEachRow(rows, strides, [0, targets.offset, g?.offset ?? 0], (offs, len, inner) => {
    for (let t = 0; t < len; t++) {
      const at = offs[0]! + t;
      tg[at] = targetOf(td, offs[1]! + t * inner[1]!, at, rows, c, ignoreIndex);
      if (g) gr[at] = gd[offs[2]! + t * inner[2]!]!;
    }
  });
  return { tg, gr };
}

/** Per-row cross-entropy losses of dense f32 logits on the SIMD module (no split: the fallback elsewhere). */
function crossEntropyLosses(split: RowSplit): CpuKernel<CrossEntropyAttrs> {
  const fallback = split.fallback(OPS.crossEntropyLosses);
  return (inputs, attrs, out) => {
    const [logits, targets] = inputs as [TensorView, TensorView];
    const size = numel(logits.shape);
    const c = logits.shape[logits.shape.length - 1] ?? 0;
    const x = denseF32(logits, size);
    const e = simdEngine(split);
    if (e === null || out.dtype !== 'f32' || x === null || c === 0) return fallback(inputs, attrs, out);
    const { tg } = rowTargets(logits, targets, null, c, attrs.ignoreIndex);
    const dst = resultArray('f32', tg.length) as Float32Array;
    runRows(split, e, null, SIMD_KIND.crossEntropyLosses, tg.length, 1, dst, [perUnit(x, logits.offset, c), perUnit(tg, 0, 1), null], c, [attrs.labelSmoothing]);
    return dst;
  };
}

function crossEntropyBackward(split: RowSplit): CpuKernel<CrossEntropyAttrs> {
  const fallback = split.fallback(OPS.crossEntropyBackward);
  return (inputs, attrs, out) => {
    const [logits, targets, g] = inputs as [TensorView, TensorView, TensorView];
    const size = numel(out.shape);
    const c = logits.shape[logits.shape.length - 1] ?? 0;
    const x = denseF32(logits, size);
    if (out.dtype !== 'f32' || x === null || c === 0 || g.dtype !== 'f32') return fallback(inputs, attrs, out);
    const count = size / c;
    const { tg, gr } = rowTargets(logits, targets, g, c, attrs.ignoreIndex);
    const dst = resultArray('f32', size) as Float32Array;
    runRows(split, simdEngine(split), TASK.crossEntropyBackward, SIMD_KIND.crossEntropyBackward, count, c, dst, [perUnit(x, logits.offset, c), perUnit(tg, 0, 1), perUnit(gr, 0, 1)], c, [attrs.labelSmoothing]);
    return dst;
  };
}

/** The kernels above, splitting across `split.gemm()`'s pool (null: dense row tasks on the calling thread only). */
export function rowTaskKernels(split: RowSplit): [OpDef, CpuKernel][] {
  return [
    [OPS.gelu, gelu(split) as CpuKernel],
    [OPS.geluBackward, geluBackward(split) as CpuKernel],
    [OPS.layerNorm, layerNorm(split) as CpuKernel],
    [OPS.layerNormBackward, layerNormBackward(split) as CpuKernel],
    [OPS.rmsNorm, rmsNormRows(split, OPS.rmsNorm, SIMD_KIND.rmsNorm, 0) as CpuKernel],
    [OPS.rmsNormBackward, rmsNormRows(split, OPS.rmsNormBackward, SIMD_KIND.rmsNormBackward, 1) as CpuKernel],
    [OPS.crossEntropyBackward, crossEntropyBackward(split) as CpuKernel],
    [OPS.crossEntropyLosses, crossEntropyLosses(split) as CpuKernel],
  ];
}
