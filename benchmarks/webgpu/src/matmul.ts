// Square matmul throughput on WebGPU, f32 and f16 storage (f16: f32 accumulation, one rounding on
// store; loaded and staged as f16 where the device has shader-f16). Many products are queued per
// sync so a real GPU is timed on its work, not on the submit and readback; each size has a time cap
// so a software adapter finishes in minutes.
import type { WebGpuBackend } from '@tessera/kernels-webgpu';
import * as T from '@tessera/tensor';

/** One row of the matmul table. */
export interface MatmulRow {
  dtype: 'f32' | 'f16';
  n: number;
  /** Median milliseconds per product. */
  ms: number;
  gflops: number;
  /** Timed products (after one warm-up product that also compiles the pipeline). */
  reps: number;
  /**
   * Process CPU time per product. On a software adapter (lavapipe runs in-process) it is the work
   * itself, so GFLOP per CPU-second compares runs on a loaded machine, where wall time does not.
   */
  cpuMs: number;
  gflopPerCpuSecond: number;
}

/** Options of the matmul table. */
export interface MatmulOptions {
  /** Wall-clock budget per size and dtype after the warm-up (at least one timed product runs). */
  capMs: number;
  /** Each sample queues enough products to last this long. */
  minSampleMs: number;
  samples: number;
}

/** Median ms per call of `fn` (which queues GPU work), with `reps` calls queued per sync. */
async function timeQueued(gpu: WebGpuBackend, fn: () => void, opts: MatmulOptions): Promise<{ ms: number; reps: number; cpuMs: number }> {
  fn();
  await gpu.sync!();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  fn();
  await gpu.sync!();
  const single = performance.now() - start;
  const perSample = Math.max(1, Math.ceil(opts.minSampleMs / Math.max(single, 1e-3)));
  const times: number[] = [];
  let reps = 1;
  while (times.length < opts.samples && performance.now() - start + perSample * single <= opts.capMs) {
    const t0 = performance.now();
    for (let r = 0; r < perSample; r++) fn();
    await gpu.sync!();
    times.push((performance.now() - t0) / perSample);
    reps += perSample;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / reps;
  if (times.length === 0) return { ms: single, reps, cpuMs };
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, reps, cpuMs };
}

/**
 * GFLOP/s of an n×n×n product for each size and dtype. `strided`: B is a column-sliced view (no
 * unit-stride axis), so the product takes the strided fallback kernel — the same run's reference
 * for what the fast path gains.
 */
export async function benchMatmul(gpu: WebGpuBackend, sizes: number[], dtypes: ('f32' | 'f16')[], opts: MatmulOptions, strided = false): Promise<MatmulRow[]> {
  const rows: MatmulRow[] = [];
  for (const dtype of dtypes) {
    for (const n of sizes) {
      const a = T.tidy(() => T.cast(T.randn([n, n], { device: gpu.name }), dtype));
      const b = T.tidy(() => (strided ? T.cast(T.randn([n, 2 * n], { device: gpu.name }), dtype).slice(1, 0, 2 * n, 2) : T.cast(T.randn([n, n], { device: gpu.name }), dtype)));
      const { ms, reps, cpuMs } = await timeQueued(gpu, () => T.matmul(a, b).dispose(), opts);
      const flop = 2 * n ** 3;
      rows.push({ dtype, n, ms, gflops: flop / (ms * 1e6), reps, cpuMs, gflopPerCpuSecond: flop / (cpuMs * 1e6) });
      console.log(`matmul${strided ? ' (strided kernel)' : ''} ${dtype} ${n}: ${ms.toFixed(2)} ms, ${rows.at(-1)!.gflops.toFixed(2)} GFLOP/s (${reps} timed; ${rows.at(-1)!.gflopPerCpuSecond.toFixed(2)} GFLOP per CPU-second)`);
      a.dispose();
      b.dispose();
    }
  }
  return rows;
}
