// Square matmul throughput on WebGPU, f32 and f16 storage.
import type { WebGpuBackend } from '@tessera/kernels-webgpu';
import * as T from '@tessera/tensor';
import { timeGpu } from './timing.js';

/** One row of the matmul table. */
export interface MatmulRow {
  dtype: 'f32' | 'f16';
  n: number;
  ms: number;
  gflops: number;
}

/** GFLOP/s of an n×n×n product for each size and dtype. */
export async function benchMatmul(gpu: WebGpuBackend, sizes: number[], dtypes: ('f32' | 'f16')[]): Promise<MatmulRow[]> {
  const rows: MatmulRow[] = [];
  for (const dtype of dtypes) {
    for (const n of sizes) {
      const a = T.cast(T.randn([n, n], { device: gpu.name }), dtype);
      const b = T.cast(T.randn([n, n], { device: gpu.name }), dtype);
      const ms = await timeGpu(gpu, () => T.matmul(a, b).dispose(), { samples: 3, minSampleMs: 100 });
      rows.push({ dtype, n, ms, gflops: (2 * n ** 3) / (ms * 1e6) });
      console.log(`matmul ${dtype} ${n}: ${ms.toFixed(2)} ms, ${rows.at(-1)!.gflops.toFixed(2)} GFLOP/s`);
      a.dispose();
      b.dispose();
    }
  }
  return rows;
}
