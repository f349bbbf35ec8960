/**
 * Tessera on WebGPU, one self-contained quick command (a few minutes on lavapipe; the same command
 * runs on a real GPU through Dawn's Vulkan backend):
 *
 *   pnpm --filter @tessera/bench-webgpu bench          matmul sizes 256..4096 (4096 skipped on a software adapter)
 *   ... bench --sizes=256,1024,4096 --out=/tmp/w.json --note='what else ran on the machine'
 *   ... bench --attention=128,512,1024                 attention lengths (1024 skipped on a software adapter)
 *
 * Prints the adapter and its limits first, so every figure names the device it came from, and
 * writes JSON to results/latest.json (temporary name, then renamed).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
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

const loadavgAtStart = loadavg();
T.registerBackend(createCpuBackend());
const gpu = await createWebGpuBackend();
T.registerBackend(gpu);
T.setBackend(gpu.name);
T.manualSeed(0);
const software = /llvmpipe|swiftshader/i.test(gpu.adapterName);
const limits = gpu.context.device.limits;
console.log(`adapter: ${gpu.adapterName}; features: ${[...gpu.context.features].join(', ') || 'none'}`);
console.log(`limits: maxBufferSize ${limits.maxBufferSize}, maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`);

// On a CPU adapter a 4096³ product takes minutes (~140 GFLOP at a few GFLOP/s): skipped unless asked for.
const allSizes = [256, 512, 1024, 2048, 4096];
const sizes = arg('sizes')?.split(',').map(Number) ?? (software ? allSizes.filter((n) => n < 4096) : allSizes);
const matmulSkipped = allSizes.filter((n) => !sizes.includes(n));
const matmulOptions = { capMs: software ? 4000 : 2000, minSampleMs: 200, samples: 3 };
const matmul = await benchMatmul(gpu, sizes, ['f32', 'f16'], matmulOptions);
const stridedSizes = software ? [512] : [1024, 4096];
const strided = await benchMatmul(gpu, stridedSizes, ['f32', 'f16'], matmulOptions, true);
// Attention B=1, H=8, T=S, D=64. On a software adapter one sample each, and T=1024 (~2 min there) only when asked for.
const allLengths = [128, 512, 1024];
const lengths = arg('attention')?.split(',').map(Number) ?? (software ? [128, 512] : allLengths);
const attentionRun = await benchAttention(gpu, 1, 8, lengths, 64, software ? { samples: 1, minSampleMs: 0 } : { samples: 3, minSampleMs: 200 });
const attention = { ...attentionRun, skipped: allLengths.filter((t) => !lengths.includes(t)).map((t) => ({ t, reason: software ? 'software adapter: minutes per call; pass --attention=128,512,1024 to run it' : 'not in --attention' })) };
const training = await benchTrainingStep(gpu, software ? { vocab: 512, dim: 64, heads: 4, layers: 1, batch: 2, seq: 32 } : { vocab: 8192, dim: 512, heads: 8, layers: 4, batch: 8, seq: 256 });

const result = {
  date: new Date().toISOString(),
  adapter: { name: gpu.adapterName, ...gpu.adapterInfo, software },
  features: [...gpu.context.features],
  limits: { maxBufferSize: limits.maxBufferSize, maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize },
  // The load average says how much else the machine ran (a shared CI or dev box skews every figure).
  host: { cpus: cpus().length, loadavgAtStart, loadavgAtEnd: loadavg() },
  note: arg('note') ?? '',
  matmul: {
    path: 'tiled fast path (vec4 loads, 128x128 or 64x64 workgroup tiles, f32 accumulation); f16 rounds once on store',
    f16: gpu.context.features.has('shader-f16') ? 'shader-f16: f16 loads and f16 workgroup tiles' : 'no shader-f16: f16 unpacked to f32 on load',
    timing: 'median ms per product over up to 3 samples of queued products, after a warm-up product; each size capped in wall time (reps says how many ran)',
    skipped: matmulSkipped.map((n) => ({ n, reason: software ? 'software adapter: minutes per product; pass --sizes to run it' : 'not in --sizes' })),
    rows: matmul,
    // Same run, same load: B column-sliced so the product takes the strided fallback kernel.
    stridedKernelRows: strided,
  },
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
