// GFLOP/s of the CPU matmul kernel on square f32 products, single thread:
//   cd packages/kernels-cpu && npx vitest run --config bench/vitest.config.ts
// MATMUL_SIZES (comma separated) and MATMUL_REPS override the defaults.
import { test } from 'vitest';
import { registerBackend, tensor, type Tensor } from '@tessera/tensor';
import { createCpuBackend, matmulKernel } from '../src/index.js';

registerBackend(createCpuBackend());

function randomMatrix(n: number, seed: number): Tensor {
  let s = seed;
  const values = Float32Array.from({ length: n * n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5);
  return tensor(values, { shape: [n, n], dtype: 'f32' });
}

test('matmul GFLOP/s (f32, square)', () => {
  const sizes = (process.env.MATMUL_SIZES ?? '256,512,1024').split(',').map(Number);
  const lines: string[] = [];
  for (const n of sizes) {
    const a = randomMatrix(n, 1);
    const b = randomMatrix(n, 2);
    const out = { shape: [n, n], dtype: 'f32' as const };
    matmulKernel([a, b], undefined, out); // warm up the JIT
    const reps = Number(process.env.MATMUL_REPS ?? (n >= 1024 ? 3 : n >= 512 ? 5 : 20));
    const times: number[] = [];
    // CPU time as well as wall time: on a shared machine, wall time also counts other processes.
    let cpuBest = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      matmulKernel([a, b], undefined, out);
      const c = process.cpuUsage(c0);
      times.push(performance.now() - t0);
      cpuBest = Math.min(cpuBest, (c.user + c.system) / 1000);
    }
    const best = Math.min(...times);
    const median = times.sort((x, y) => x - y)[Math.floor(times.length / 2)]!;
    const gflops = (ms: number) => ((2 * n ** 3) / (ms * 1e6)).toFixed(2);
    lines.push(`${n}x${n}x${n} f32: best ${gflops(best)} GFLOP/s (${best.toFixed(1)} ms), median ${gflops(median)} GFLOP/s, by CPU time ${gflops(cpuBest)} GFLOP/s`);
  }
  // The decode-step shape of a Linear layer: one row times a transposed (out, in) weight.
  {
    const x = randomMatrix(64, 3).reshape([1, 4096]);
    const w = randomMatrix(2048, 4).reshape([1024, 4096]).T; // (4096, 1024): an (out, in) weight viewed transposed
    const out = { shape: [1, 1024], dtype: 'f32' as const };
    matmulKernel([x, w], undefined, out);
    const t0 = performance.now();
    for (let r = 0; r < 10; r++) matmulKernel([x, w], undefined, out);
    const ms = (performance.now() - t0) / 10;
    lines.push(`1x4096 @ (1024x4096).T f32: ${((2 * 4096 * 1024) / (ms * 1e6)).toFixed(2)} GFLOP/s (${ms.toFixed(2)} ms)`);
  }
  console.log(lines.join('\n'));
});
