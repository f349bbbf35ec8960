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
async function timeQueued(gpu: WebGpuBackend, fn: () => void, opts: MatmulOptions): Promise<{ ms: number; reps: number }> {
  fn();
  await gpu.sync!();
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
  if (times.length === 0) return { ms: single, reps };
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, reps };
}

/** GFLOP/s of an n×n×n product for each size and dtype. */
export async function benchMatmul(gpu: WebGpuBackend, sizes: number[], dtypes: ('f32' | 'f16')[], opts: MatmulOptions): Promise<MatmulRow[]> {
  const rows: MatmulRow[] = [];
  for (const dtype of dtypes) {
    for (const n of sizes) {
      const [a, b] = [0, 1].map(() => T.tidy(() => T.cast(T.randn([n, n], { device: gpu.name }), dtype)));
      const { ms, reps } = await timeQueued(gpu, () => T.matmul(a!, b!).dispose(), opts);
      rows.push({ dtype, n, ms, gflops: (2 * n ** 3) / (ms * 1e6), reps });
      console.log(`matmul ${dtype} ${n}: ${ms.toFixed(2)} ms, ${rows.at(-1)!.gflops.toFixed(2)} GFLOP/s (${reps} timed)`);
      a!.dispose();
      b!.dispose();
    }
  }
  return rows;
}
