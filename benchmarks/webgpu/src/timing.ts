// Timing GPU work from JS: queue the work, then wait for the queue to drain; the median of a few
// samples, each long enough to hide the submit and readback overhead.
import type { WebGpuBackend } from '@tessera/kernels-webgpu';

/** Median milliseconds of one call of `fn` (which queues GPU work), after a warm-up call. */
export async function timeGpu(gpu: WebGpuBackend, fn: () => void, opts: { samples?: number; minSampleMs?: number } = {}): Promise<number> {
  const samples = opts.samples ?? 3;
  const minMs = opts.minSampleMs ?? 200;
  fn();
  await gpu.sync!();
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    let reps = 0;
    const start = performance.now();
    do {
      fn();
      reps++;
      await gpu.sync!();
    } while (performance.now() - start < minMs);
    times.push((performance.now() - start) / reps);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
