// Worker threads that run slices of one gemm on the shared WebAssembly memory. The CPU backend is
// synchronous, so the calling thread posts a job through a shared control block, runs its own slice,
// and blocks in Atomics.wait until the others are done: no event-loop turn, no promise.
// In Node the threads are worker_threads; in a browser they are Web Workers from a blob URL, used
// only from a worker (a page's main thread may not Atomics.wait) and only once every one of them has
// started (a Web Worker starts on its parent's event loop, never while the parent blocks).
// Besides gemm slices the pool runs row tasks (wasm/row-tasks.ts: GELU, layerNorm, cross-entropy
// gradient): plain functions whose source text is compiled into the worker, working on operands the
// caller has copied into the shared memory.
import { ATTENTION_TASK_SOURCE } from './attention-task.js';
import { ROW_TASKS } from './row-tasks.js';

/**
 * Control block layout (Int32 slots). The caller posts a job by writing ARGS and then a new
 * GENERATION; worker `index` answers it by storing the generation in ANSWERS + index (negated when
 * its slice failed). Answers are tagged with the job they belong to, so a late or repeated answer can
 * never count towards a later job, the way a shared countdown could (it once went to -1 and hung).
 */
const GENERATION = 0;
/** Workers that have instantiated the module and wait for jobs. */
const READY = 1;
const ARGS = 2;
const ARG_COUNT = 14;
const ANSWERS = ARGS + ARG_COUNT;
/** Generations run 1..MAX_GENERATION and wrap to 1; a negative one tells the workers to stop. */
const MAX_GENERATION = 0x3fffffff;
/** How long the caller waits without any worker answering before reporting the silent ones dead. */
const STALL_MS = 120_000;

/** What a posted job splits: the B slivers of one product, or the entries of a batch (row tasks go through runTask). */
export type SplitKind = 'slivers' | 'entries';
/** ctl[ARGS + 13]: the job's kind. */
const KIND_CODE = { slivers: 0, entries: 1, task: 2, attention: 3 } as const;
/** Float arguments of a row task (a Float64Array of its own, beside the Int32 control block). */
const FLOAT_ARGS = 4;
/** ctl[ARGS + TASK_SLOT]: the row task's id (index into ROW_TASKS). */
const TASK_SLOT = 10;

// The worker body: plain JS evaluated in the worker, so no file path has to resolve under tsx,
// vitest or a bundler. A failing slice still answers (negated), so the caller never waits forever.
// `jobs` counts the slices each thread ran (index 0: the caller), so tests can see the threads work.
const WORKER_LOOP = `
function serve({ module, memory, control, floats, jobs, index }, started) {
const ctl = new Int32Array(control);
const fargs = new Float64Array(floats);
const done = new Int32Array(jobs);
// The memory grows on the calling thread; a view is renewed when a task finds it shorter than the memory.
let mem = new Float32Array(memory.buffer);
// A worker that cannot instantiate still answers every job (as failed), so the caller never waits forever.
let exports = null;
try { exports = new WebAssembly.Instance(module, { env: { memory } }).exports; } catch (e) { exports = null; }
Atomics.add(ctl, ${READY}, 1);
started();
let seen = 0;
for (;;) {
  // Serve only a generation other than the last one served. Atomics.wait also returns when a notify
  // lands late: the caller stores a generation, this worker serves that job and sleeps again, and only
  // then does the caller's notify arrive. Taking that wake as a new job ran the job twice.
  let generation;
  while ((generation = Atomics.load(ctl, ${GENERATION})) === seen) Atomics.wait(ctl, ${GENERATION}, seen);
  if (generation < 0) break;
  seen = generation;
  const a = ctl.subarray(${ARGS}, ${ARGS + ARG_COUNT});
  const count = a[11], threads = a[12];
  const start = Math.floor((count * index) / threads), end = Math.floor((count * (index + 1)) / threads);
  let answer = generation;
  try {
    if (exports === null) throw new Error('no instance');
    const { job, batch } = exports;
    if (a[13] === 0) job(a[0], a[1], a[2], a[3], a[4], a[5], start, end, a[6], a[7], a[8], a[9], a[10]);
    else if (a[13] === 1) batch(a[0], a[1], start, end, a[3], a[4], a[5]);
    else if (a[13] === 3) ATTENTION_TASK(exports, memory.buffer, a[0], start, end, index);
    else {
      if (mem.byteLength !== memory.buffer.byteLength) mem = new Float32Array(memory.buffer);
      TASKS[a[${TASK_SLOT}]](mem, mem, mem, mem, a, fargs, start, end);
    }
    if (end > start) Atomics.add(done, index, 1);
  } catch (e) {
    answer = -generation;
  }
  Atomics.store(ctl, ${ANSWERS} + index, answer);
  Atomics.notify(ctl, ${ANSWERS} + index);
}
}
`;
// The row tasks' source text; esbuild's keepNames helper is defined in case a transform adds calls to it.
const TASK_SOURCE = `const __name = (f) => f;\nconst TASKS = [\n${ROW_TASKS.map(String).join(',\n')}\n];\n${ATTENTION_TASK_SOURCE}`;
const NODE_WORKER_SOURCE = `${TASK_SOURCE}${WORKER_LOOP}
const { workerData, parentPort } = require('node:worker_threads');
serve(workerData, () => parentPort.postMessage('ready'));
`;
const WEB_WORKER_SOURCE = `${TASK_SOURCE}${WORKER_LOOP}
onmessage = (e) => serve(e.data, () => postMessage('ready'));
`;

type NodeWorker = { unref(): void; terminate(): Promise<number>; once(event: 'message', listener: () => void): void };
type WorkerCtor = new (code: string, opts: { eval: true; workerData: unknown }) => NodeWorker;
type WebWorker = { postMessage(message: unknown): void; terminate(): void; onmessage: (() => void) | null; onerror: (() => void) | null };
type WebWorkerCtor = new (url: string) => WebWorker;

/** Web Workers where blocking is allowed: a browser worker (not a page's main thread, where Atomics.wait throws). */
function webWorkerClass(): WebWorkerCtor | null {
  const g = globalThis as { Worker?: WebWorkerCtor; document?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  if (typeof g.Worker !== 'function' || g.document !== undefined || typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') return null;
  return g.Worker;
}

/** Node's Worker class, found without a static import so browser bundles never see `node:*`. */
function nodeWorkerClass(): WorkerCtor | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:worker_threads') as { Worker?: WorkerCtor; isMainThread?: boolean } | undefined;
  return mod?.Worker ?? null;
}

/** The number of hardware threads: os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers. */
export function availableThreads(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const n = os?.availableParallelism?.() ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, n);
}

/** A pool of `threads - 1` workers sharing one memory; the caller is the remaining thread. */
export class GemmWorkers {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly floats: Float64Array;
  /** The shared memory every thread works on (row tasks' operands are copied into it). */
  readonly memory: WebAssembly.Memory;
  private readonly workers: { terminate(): unknown }[] = [];
  private readonly jobs: Int32Array;
  /** Web Workers start only when the creating thread returns to its event loop; until all have, the pool is not used. */
  private readonly gated: boolean;
  /** A Web Worker could not be created or loaded: the pool is never used. */
  private failed = false;
  /**
   * A worker gave no answer for STALL_MS: the pool is never used again (products run on the calling
   * thread), since a worker that is only very late would read the next job's arguments mid-job.
   */
  private stalled = false;
  private closed = false;
  /** The generation of the last posted job. */
  private generation = 0;
  /** Resolves once every worker has started (at once for a pool of one). */
  readonly ready: Promise<void>;

  /** Starts the workers, or returns a pool of one (the caller) where neither Node workers nor (inside a worker) Web Workers exist. */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number) {
    const NodeWorker = threads > 1 ? nodeWorkerClass() : null;
    const WebWorker = threads > 1 && !NodeWorker ? webWorkerClass() : null;
    this.threads = NodeWorker || WebWorker ? threads : 1;
    this.gated = WebWorker !== null;
    this.ctl = new Int32Array(new SharedArrayBuffer((ANSWERS + this.threads) * 4));
    this.floats = new Float64Array(new SharedArrayBuffer(FLOAT_ARGS * 8));
    this.memory = memory;
    this.jobs = new Int32Array(new SharedArrayBuffer(this.threads * 4));
    const started: Promise<void>[] = [];
    const url = WebWorker ? URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' })) : '';
    for (let index = 1; index < this.threads; index++) {
      const data = { module, memory, control: this.ctl.buffer, floats: this.floats.buffer, jobs: this.jobs.buffer, index };
      if (NodeWorker) {
        const worker = new NodeWorker(NODE_WORKER_SOURCE, { eval: true, workerData: data });
        started.push(new Promise((resolve) => worker.once('message', () => resolve())));
        // Idle workers must not keep the process alive.
        worker.unref();
        this.workers.push(worker);
      } else {
        // A page whose content security policy refuses blob: workers throws here or fails to load the
        // worker later: either way the pool stays unused and products run on the calling thread.
        try {
          const worker = new WebWorker!(url);
          started.push(
            new Promise((resolve) => {
              worker.onmessage = () => resolve();
              worker.onerror = () => {
                this.failed = true;
                resolve();
              };
            }),
          );
          worker.postMessage(data);
          this.workers.push(worker);
        } catch {
          this.failed = true;
          break;
        }
      }
    }
    this.ready = Promise.all(started).then(() => undefined);
  }

  /** False while Web Workers are still starting, when one could not start or stalled, or after close() (products then run on the calling thread alone). */
  get usable(): boolean {
    return !this.failed && !this.stalled && !this.closed && (!this.gated || Atomics.load(this.ctl, READY) === this.threads - 1);
  }

  /** The shared control block; tests wake the workers through it at the worst moments. */
  get control(): SharedArrayBuffer {
    return this.ctl.buffer as SharedArrayBuffer;
  }

  /** Slices each thread has run so far (index 0: the calling thread). */
  jobsPerThread(): number[] {
    return Array.from(this.jobs, (_, i) => Atomics.load(this.jobs, i));
  }

  /**
   * Splits `count` units (B slivers of one product, or batch entries) across all threads; `own`
   * runs the caller's share (0 .. count/threads) and the call returns once every share is done.
   * args for slivers: the module's `job` arguments without the range (pa, pb, pc, mPad, nPad, k, src,
   * rs, cs, n, kind); for entries: `batch`'s (base, stride, -, mPad, nPad, k).
   */
  run(kind: SplitKind, args: readonly number[], count: number, own: (start: number, end: number) => void): void {
    this.post(KIND_CODE[kind], args, count, own, 'matmul', 'gemm worker threads');
  }

  /**
   * Splits `count` units of row task `task` (an index into ROW_TASKS) across all threads like run():
   * the workers call the task on the shared memory with `ints` (element offsets into it, then the
   * row length; at most 10) and `floats` (at most 4); `own` runs the caller's share on its own arrays.
   */
  runTask(task: number, ints: readonly number[], floats: readonly number[], count: number, own: (start: number, end: number) => void): void {
    if (ints.length > TASK_SLOT || floats.length > FLOAT_ARGS) {
      throw new Error(`GemmWorkers.runTask: ${ints.length} integer and ${floats.length} float arguments (at most ${TASK_SLOT} and ${FLOAT_ARGS}); this is a bug in @tessera/kernels-cpu`);
    }
    for (let i = 0; i < FLOAT_ARGS; i++) this.floats[i] = floats[i] ?? 0;
    const args = Array.from({ length: TASK_SLOT + 1 }, (_, i) => (i === TASK_SLOT ? task : (ints[i] ?? 0)));
    this.post(KIND_CODE.task, args, count, own, 'row task', 'worker threads');
  }

  /**
   * Splits `count` attention units (heads, or kv heads for attentionGradKV) across all threads like
   * run(): each thread runs wasm/attention-task.ts's task on the op described at byte `header` of the
   * shared memory, in its own scratch; `own` runs the caller's share.
   */
  runAttention(header: number, count: number, own: (start: number, end: number) => void): void {
    this.post(KIND_CODE.attention, [header], count, own, 'attention', 'worker threads');
  }

  private post(kind: number, args: readonly number[], count: number, own: (start: number, end: number) => void, what: string, who: string): void {
    if (!this.usable) {
      const why = this.closed ? 'after close()' : this.stalled ? 'after a worker thread stalled' : 'before its workers started';
      throw new Error(`GemmWorkers.run: the pool was used ${why}; check \`usable\` first (this is a bug in @tessera/kernels-cpu)`);
    }
    const ctl = this.ctl;
    const t = this.threads;
    for (let i = 0; i < 11; i++) ctl[ARGS + i] = args[i] ?? 0;
    ctl[ARGS + 11] = count;
    ctl[ARGS + 12] = t;
    ctl[ARGS + 13] = kind;
    const generation = (this.generation = this.generation >= MAX_GENERATION ? 1 : this.generation + 1);
    // The argument writes above happen before this store for any worker that loads the generation.
    Atomics.store(ctl, GENERATION, generation);
    Atomics.notify(ctl, GENERATION);
    let failed: number;
    try {
      const end = Math.floor(count / t);
      own(0, end);
      if (end > 0) Atomics.add(this.jobs, 0, 1);
    } finally {
      // Even when the caller's share throws, wait for the workers: the next job must not be posted
      // while one of them still reads these arguments.
      failed = this.waitForWorkers(generation);
    }
    if (failed > 0) throw new Error(`${what}: ${failed} of ${t - 1} ${who} failed (WebAssembly trap or exception); this is a bug in @tessera/kernels-cpu`);
  }

  /**
   * Blocks until every worker has answered job `generation` and returns how many answered failed. A
   * worker thread that died (killed, out of memory) never answers; rather than sleeping forever, give
   * up after STALL_MS in which no worker answered, and stop using the pool.
   */
  private waitForWorkers(generation: number): number {
    const ctl = this.ctl;
    let failed = 0;
    let since = Date.now();
    for (let index = 1; index < this.threads; index++) {
      for (;;) {
        const answer = Atomics.load(ctl, ANSWERS + index);
        if (answer === generation || answer === -generation) {
          if (answer < 0) failed++;
          since = Date.now();
          break;
        }
        Atomics.wait(ctl, ANSWERS + index, answer, 1000);
        if (Date.now() - since > STALL_MS && Atomics.load(ctl, ANSWERS + index) === answer) {
          this.stalled = true;
          let silent = 0;
          for (let i = 1; i < this.threads; i++) if (Math.abs(Atomics.load(ctl, ANSWERS + i)) !== generation) silent++;
          throw new Error(
            `matmul: ${silent} of ${this.threads - 1} gemm worker threads gave no answer for ${STALL_MS / 1000} s (a worker thread died?); ` +
              'create the CPU backend with { threads: 1 } to run without workers, and report this as a bug in @tessera/kernels-cpu',
          );
        }
      }
    }
    return failed;
  }

  /** Stops the workers. */
  close(): void {
    this.closed = true;
    Atomics.store(this.ctl, GENERATION, -1);
    Atomics.notify(this.ctl, GENERATION);
    for (const w of this.workers) void w.terminate();
  }
}
