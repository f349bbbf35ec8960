/**
 * Tessera on WebGPU, one self-contained quick command (a few minutes on lavapipe; the same command
 * runs on a real GPU through Dawn's Vulkan backend):
 *
 *   pnpm --filter @tessera/bench-webgpu bench          sizes 256, 512 (1024 too on a real GPU)
 *   ... bench --sizes=256,1024,4096 --out=/tmp/w.json
 *
 * Prints the adapter and its limits first, so every figure names the device it came from, and
 * writes JSON to results/latest.json (temporary name, then renamed).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createWebGpuBackend } from '@tessera/kernels-webgpu';
import * as T from '@tessera/tensor';
import { benchAttention } from './attention.js';
import { benchMatmul } from './matmul.js';
import { benchTrainingStep } from './training-step.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

T.registerBackend(createCpuBackend());
const gpu = await createWebGpuBackend();
T.registerBackend(gpu);
T.setBackend(gpu.name);
T.manualSeed(0);
const software = /llvmpipe|swiftshader/i.test(gpu.adapterName);
const limits = gpu.context.device.limits;
console.log(`adapter: ${gpu.adapterName}; features: ${[...gpu.context.features].join(', ') || 'none'}`);
console.log(`limits: maxBufferSize ${limits.maxBufferSize}, maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`);

const sizes = arg('sizes')?.split(',').map(Number) ?? (software ? [256, 512] : [256, 1024, 2048, 4096]);
const matmul = await benchMatmul(gpu, sizes, ['f32', 'f16']);
const attention = await benchAttention(gpu, 1, 4, software ? 128 : 1024, 64);
const training = await benchTrainingStep(gpu, software ? { vocab: 512, dim: 64, heads: 4, layers: 1, batch: 2, seq: 32 } : { vocab: 8192, dim: 512, heads: 8, layers: 4, batch: 8, seq: 256 });

const result = {
  date: new Date().toISOString(),
  adapter: gpu.adapterName,
  features: [...gpu.context.features],
  limits: { maxBufferSize: limits.maxBufferSize, maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize },
  note: 'f16 matmul stores f16 and computes in f32 (no shader-f16 path yet); attention has no fused kernel yet, so only the composition is timed',
  matmul,
  attention,
  training,
};
const out = resolve(arg('out') ?? join(here, '..', 'results', 'latest.json'));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${out}.tmp`, out);
console.log(`wrote ${out}`);
gpu.destroy();
process.exit(0);
