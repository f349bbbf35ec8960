// Stress test of the gemm worker pool's hand-off: many tiny jobs in a row, other threads competing for
// the CPU, and wakes that land late. A worker that served a job twice, or a caller that returned before
// every worker answered, once drove a shared countdown to -1 and hung a 2-thread training run
// ("-1 of 1 gemm worker threads gave no answer"). Every worker's slice count must equal the number of
// jobs exactly, and every product must be right.
// GEMM_STRESS_JOBS sets the jobs per case (default 1000, a few seconds; try 200000 to soak).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { GemmWorkers } from '../src/wasm/gemm-workers.js';
import { gemmModule } from '../src/wasm/gemm-module.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { ROW_TASKS, TASK } from '../src/wasm/row-tasks.js';

const JOBS = Number(process.env.GEMM_STRESS_JOBS ?? 1000);
// Node 20 has WebAssembly SIMD and shared memory: a missing module is a failure here, not a skip.
const module = gemmModule() as WebAssembly.Module;

/** Threads that only burn CPU, so the pool's threads are descheduled at arbitrary points. */
function busyThreads(count: number): Worker[] {
  return Array.from({ length: count }, () => new Worker('for (;;) {}', { eval: true }));
}

/**
 * A thread that calls Atomics.notify on the pool's GENERATION slot without pause: every worker asleep
 * between jobs is woken for no new job, the way the caller's own notify wakes a worker that has already
 * served the job and gone back to sleep when the caller is descheduled between posting and notifying.
 */
function lateWaker(control: SharedArrayBuffer): Worker {
  return new Worker('const c = new Int32Array(require("node:worker_threads").workerData); for (;;) Atomics.notify(c, 0);', { eval: true, workerData: control });
}

/** Runs `body`, then stops the pool and the competing threads whatever happened. */
function withThreads(stops: (() => unknown)[], body: () => void): void {
  try {
    body();
  } finally {
    for (const stop of stops) void stop();
  }
}

describe('gemm worker pool under stress', () => {
  it('has the SIMD gemm module to stress', () => expect(module).not.toBeNull());

  // One batch entry (a 4×1 by 1×8 product) per thread: the module's batch export on a zeroed memory.
  const entryArgs = [64, 192, 0, 4, 8, 1];

  it.each([2, 3, 4])('serves each of %i threads every job exactly once while late wakes and busy threads compete', (threads) => {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
    const pool = new GemmWorkers(module, memory, threads);
    const waker = lateWaker(pool.control);
    const busy = busyThreads(1);
    withThreads([() => pool.close(), () => waker.terminate(), ...busy.map((b) => () => b.terminate())], () => {
      for (let job = 1; job <= JOBS; job++) {
        pool.run('entries', entryArgs, threads, (start, end) => expect([start, end]).toEqual([0, 1]));
        const slices = pool.jobsPerThread();
        if (slices.some((s) => s !== job)) expect.fail(`after job ${job} the threads ran ${slices.join('/')} slices (each should have run ${job})`);
      }
    });
  });

  it('keeps every threaded product right through thousands of back-to-back small products', () => {
    const gemm = new WasmGemm(2, 0);
    const busy = busyThreads(1);
    withThreads([() => gemm.close(), ...busy.map((b) => () => b.terminate())], () => {
    const m = 3, k = 5, n = 16;
    const a = Float32Array.from({ length: m * k }, (_, i) => (i % 5) - 2);
    const b = Float32Array.from({ length: k * n }, (_, i) => (i % 7) - 3);
    const want = new Float32Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) want[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
    const out = new Float32Array(m * n);
    for (let product = 1; product <= JOBS; product++) {
      out.fill(Number.NaN);
      gemm.matmul(m, n, k, { data: a, offset: 0, rowStride: k, colStride: 1 }, { data: b, offset: 0, rowStride: n, colStride: 1 }, out, 0);
      if (out.some((v, i) => v !== want[i])) expect.fail(`product ${product} came out wrong: ${Array.from(out).join(',')}`);
    }
      expect(gemm.jobsPerThread()).toEqual([JOBS, JOBS]);
    });
  });

  it.each([2, 3])('runs every row task on each of %i threads exactly once, on that job\'s operands, while late wakes and busy threads compete', (threads) => {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
    const pool = new GemmWorkers(module, memory, threads);
    const waker = lateWaker(pool.control);
    const busy = busyThreads(1);
    const layerNorm = ROW_TASKS[TASK.layerNorm]!;
    // One 5-wide row per thread: the caller's row in its own arrays, the workers' rows in the shared memory.
    const n = 5, xAt = 64, dAt = 128;
    withThreads([() => pool.close(), () => waker.terminate(), ...busy.map((b) => () => b.terminate())], () => {
      const mem = new Float32Array(memory.buffer);
      const x = new Float32Array(threads * n);
      const got = new Float32Array(threads * n);
      const want = new Float32Array(threads * n);
      for (let job = 1; job <= JOBS; job++) {
        // Rows that differ from job to job: a worker that served a stale or repeated job leaves the wrong values.
        for (let i = 0; i < x.length; i++) x[i] = ((i * 7 + job) % 11) - 5 + (i % n === 0 ? job : 0);
        mem.set(x.subarray(n), xAt);
        mem.fill(Number.NaN, dAt, dAt + x.length);
        pool.runTask(TASK.layerNorm, [dAt - n, xAt - n, -1, -1, n], [1e-5], threads, (s, e) => layerNorm(got, x, got, got, [0, 0, -1, -1, n], [1e-5], s, e));
        got.set(mem.subarray(dAt, dAt + (threads - 1) * n), n);
        layerNorm(want, x, want, want, [0, 0, -1, -1, n], [1e-5], 0, threads);
        if (got.some((v, i) => v !== want[i])) expect.fail(`row task ${job} came out wrong: ${Array.from(got).join(',')} (want ${Array.from(want).join(',')})`);
        const slices = pool.jobsPerThread();
        if (slices.some((s) => s !== job)) expect.fail(`after row task ${job} the threads ran ${slices.join('/')} slices (each should have run ${job})`);
      }
    });
  });

  it('reports a row task that throws in a worker as failed, and the pool keeps working', () => {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
    const pool = new GemmWorkers(module, memory, 2);
    withThreads([() => pool.close()], () => {
      expect(() => pool.runTask(99, [], [], 2, () => {})).toThrow(/row task: 1 of 1 worker threads failed/);
      pool.runTask(TASK.geluTanh, [128, 64, -1, -1, 1], [], 2, () => {});
      expect(pool.jobsPerThread()).toEqual([2, 1]);
    });
  });

  it('refuses a job after close() with an error naming the pool and the fix', () => {
    const pool = new GemmWorkers(module, new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }), 2);
    pool.close();
    expect(pool.usable).toBe(false);
    expect(() => pool.run('entries', entryArgs, 2, () => {})).toThrow(/GemmWorkers\.run: the pool was used after close\(\); check `usable` first/);
  });
});
