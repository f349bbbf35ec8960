// Out-of-range indices on gpu.js. A shader cannot throw, so gather and scatterAdd run with a bad
// index read as 0 (gather) or matching no output (scatterAdd), crossEntropy with a bad target read
// from outside its row, and each records two small check launches over its index (targets): one
// thread per chunk of CHUNK positions finds the chunk's first bad position, then one launch of two
// threads picks the first over all chunks and reads its value.
// Nothing waits for them: the next read or sync of the backend reads the pending results and raises
// the first failure as the CPU backend would have raised it, naming the op, the value, its position,
// the axis size and the fix (the same contract as @tessera/kernels-webgpu's index-bounds.ts).
import { fmtShape, numel, type Shape, type TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from './gpujs-context.js';
import { handleOf } from './gpujs-kernel.js';
import { MAX_RANK, MetaTable, coordsCode, indexCode, kernelSource } from './kernel-source.js';

/** Index positions one thread of the first check launch scans. */
const CHUNK = 256;
/** "No bad index": above every position (a tensor holds at most 2^24 elements, exact-integers.ts). */
const NONE = 2 ** 24;
/** "Skip no value": equal to no index, since indices are integers. */
const NO_SKIP = 0.5;

// Table of both launches: index dims at 0, its layout at R (strides, offset), then n, the axis size,
// CHUNK, the chunk count, NONE and the value that is skipped (crossEntropy's ignoreIndex; NO_SKIP else).
const R = MAX_RANK;
const tail = 2 * R + 1;

/** Code reading the index value `k` at flat position `from` (clamped into [0, n)). */
const readIndex = (from: string) =>
  [`let pos = Math.min(${from}, m[${tail}] - 1.0);`, coordsCode(0, 'c', 'pos'), indexCode('ik', R, 'c'), 'let k = x0[ik];'].join('\n');

const CHUNK_SOURCE = kernelSource(
  1,
  [
    `let base = this.thread.x * m[${tail + 2}];`,
    'let found = m[' + (tail + 4) + '];',
    `for (let j = 0; j < m[${tail + 2}]; j++) {`,
    'let e = base + j * 1.0;',
    readIndex('e'),
    // Array reads stay out of if conditions (gpu.js's GLSL hoisting mistypes them).
    `let bad = 0.0;`,
    `if (k < 0.0 || k >= m[${tail + 1}]) { bad = 1.0; }`,
    `if (k == m[${tail + 5}]) { bad = 0.0; }`,
    `if (e >= m[${tail}]) { bad = 0.0; }`,
    'if (bad > 0.5 && e < found) { found = e; }',
    '}',
    'return found;',
  ].join('\n'),
);

// x0: the index; x1: the chunk results. Thread 0 returns the first bad position (NONE if none),
// thread 1 the index value there.
const FIRST_SOURCE = kernelSource(
  2,
  [
    `let first = m[${tail + 4}];`,
    `for (let j = 0; j < m[${tail + 3}]; j++) {`,
    'let fj = x1[j];',
    'if (fj < first) { first = fj; }',
    '}',
    readIndex('first'),
    'let r = first;',
    'if (this.thread.x > 0.5) { r = k; }',
    'return r;',
  ].join('\n'),
);

/** A check waiting for the next read: what the message needs and the launch that holds the answer. */
interface PendingCheck {
  readonly op: string;
  readonly indexShape: Shape;
  readonly axis: number;
  readonly size: number;
  /** What the kernel did with the bad index, for the message. */
  readonly ranWith: string;
  readonly result: Handle;
}

/** Options of `checkIndexBounds`. */
export interface IndexCheckOptions {
  /** An index value that is allowed whatever its range (crossEntropy's ignoreIndex). */
  readonly skip?: number;
  /** What the kernel did with a bad index (default: gather's and scatterAdd's behaviour). */
  readonly ranWith?: string;
}

const GATHER_SCATTER_RAN_WITH = 'the index read as out of range (gather gives 0, scatterAdd adds nothing)';

const pendingByContext = new WeakMap<GpuJsContext, PendingCheck[]>();

/** Records a check that every element of `index` lies in [0, size) (or equals `skip`); a failure is raised at the next read or sync. */
export function checkIndexBounds(ctx: GpuJsContext, op: string, index: TensorView, axis: number, size: number, opts: IndexCheckOptions = {}): void {
  const n = numel(index.shape);
  if (n === 0) return;
  const chunks = Math.ceil(n / CHUNK);
  const m = new MetaTable();
  m.dims(index.shape, op);
  m.strides(index.strides, op);
  m.push(index.offset, n, size, CHUNK, chunks, NONE, opts.skip ?? NO_SKIP);
  const table = m.toArray();
  const perChunk = ctx.run({ source: CHUNK_SOURCE, size: chunks, args: [handleOf(index), table] });
  const result = ctx.run({ source: FIRST_SOURCE, size: 2, args: [handleOf(index), perChunk, table] });
  ctx.free(perChunk);
  let pending = pendingByContext.get(ctx);
  if (!pending) pendingByContext.set(ctx, (pending = []));
  pending.push({ op, indexShape: index.shape, axis, size, ranWith: opts.ranWith ?? GATHER_SCATTER_RAN_WITH, result });
}

/** Reads the checks recorded since the last call and throws the first failure (a RangeError). */
export async function raiseIndexErrors(ctx: GpuJsContext): Promise<void> {
  const pending = pendingByContext.get(ctx);
  if (!pending || pending.length === 0) return;
  pendingByContext.set(ctx, []);
  let failure: RangeError | null = null;
  for (const check of pending) {
    try {
      if (failure === null) {
        const [pos, value] = await ctx.read(check.result);
        if (pos! < NONE) failure = outOfRange(check, pos!, value!);
      }
    } finally {
      ctx.free(check.result);
    }
  }
  if (failure !== null) throw failure;
}

function outOfRange({ op, indexShape, axis, size, ranWith }: PendingCheck, pos: number, value: number): RangeError {
  const coords = new Array<number>(indexShape.length).fill(0);
  let rem = pos;
  for (let d = indexShape.length - 1; d >= 0; d--) {
    coords[d] = rem % indexShape[d]!;
    rem = Math.floor(rem / indexShape[d]!);
  }
  const hint = value < 0 ? '; negative indices are not allowed' : '';
  return new RangeError(
    `${op}: index ${value} at position ${fmtShape(coords)} of the index ${fmtShape(indexShape)} is out of range for axis ${axis} of size ${size}; ` +
      `expected 0 <= index < ${size}${hint}. (gpujs: the kernel ran with ${ranWith} ` +
      `and reported it at this read or sync; results computed from it since are not valid)`,
  );
}
