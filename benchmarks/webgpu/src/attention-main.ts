/**
 * Attention alone: causal forward+backward, fused kernels vs the unfused composition, B=1, H=8, T=S,
 * D=64 (the attention section of `bench`, without the matmul and training sections).
 *
 *   pnpm --filter @tessera/bench-webgpu bench:attention [--attention=128,512,1024 --out=...]
 *
 * Writes results/attention.json (temporary name, then renamed), naming the adapter.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createWebGpuBackend } from '@tessera/kernels-webgpu';
import * as T from '@tessera/tensor';
import { benchAttention } from './attention.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

const loadavgAtStart = loadavg();
T.registerBackend(createCpuBackend());
const gpu = await createWebGpuBackend();
T.registerBackend(gpu);
T.setBackend(gpu.name);
T.manualSeed(0);
const software = /llvmpipe|swiftshader/i.test(gpu.adapterName);
console.log(`adapter: ${gpu.adapterName}; features: ${[...gpu.context.features].join(', ') || 'none'}`);
const lengths = arg('attention')?.split(',').map(Number) ?? [128, 512, 1024];
const attention = await benchAttention(gpu, 1, 8, lengths, 64, software ? { samples: 1, minSampleMs: 0 } : { samples: 3, minSampleMs: 200 });
const result = {
  date: new Date().toISOString(),
  adapter: { name: gpu.adapterName, ...gpu.adapterInfo, software },
  host: { cpus: cpus().length, loadavgAtStart, loadavgAtEnd: loadavg() },
  note: arg('note') ?? '',
  attention,
};
const out = resolve(arg('out') ?? join(here, '..', 'results', 'attention.json'));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${out}.tmp`, out);
console.log(`wrote ${out}`);
gpu.destroy();
process.exit(0);
