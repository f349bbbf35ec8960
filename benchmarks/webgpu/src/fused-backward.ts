/**
 * What the fused backward kernels buy: forward + backward of cross-entropy over a large vocabulary,
 * softmax, layerNorm, rmsNorm and rotary, each on a backend with the fused kernels and on one where
 * they are removed (so the gradient runs through the decompositions' primitives). Same device, same
 * inputs; reports ms per step (median), dispatches per step and the buffer pool's footprint after the
 * step (every buffer the step needed at once, pooled for reuse).
 *
 *   pnpm --filter @tessera/bench-webgpu bench:fused [--tokens=128 --vocab=32000 --rows=256 --dim=1024 --out=...]
 *
 * Writes results/fused-backward.json (temporary name, then renamed), naming the adapter.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { valueAndGrad } from '@tessera/autograd';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createWebGpuBackend, type WebGpuBackend } from '@tessera/kernels-webgpu';
import * as T from '@tessera/tensor';
import { timeGpu } from './timing.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const [tokens, vocab, rows, dim] = [arg('tokens', 128), arg('vocab', 32000), arg('rows', 256), arg('dim', 1024)];

/** The kernels this benchmark switches off on the "decomposed" backend. */
const FUSED_BACKWARD = [
  T.OPS.softmaxBackward,
  T.OPS.logSoftmaxBackward,
  T.OPS.layerNormBackward,
  T.OPS.rmsNormBackward,
  T.OPS.rotary,
  T.OPS.rotaryBackward,
  T.OPS.crossEntropyLosses,
  T.OPS.crossEntropyBackward,
];

const loadavgAtStart = loadavg();
T.registerBackend(createCpuBackend());

interface Case {
  name: string;
  /** Builds the inputs on `device` and returns the loss of the differentiated ones. */
  setup: (device: string) => { inputs: T.Tensor[]; loss: (...xs: T.Tensor[]) => T.Tensor; dispose: () => void };
}

const CASES: Case[] = [
  {
    name: `crossEntropy (${tokens} x ${vocab}, label smoothing 0.1)`,
    setup: (d) => {
      const g = new T.Generator(1);
      const logits = T.randn([tokens, vocab], { device: d, generator: g });
      const targets = T.randint(0, vocab, [tokens], { device: d, generator: g });
      return { inputs: [logits], loss: (x) => T.crossEntropy(x!, targets, { labelSmoothing: 0.1 }), dispose: () => targets.dispose() };
    },
  },
  ...(['softmax', 'layerNorm', 'rmsNorm'] as const).map((kind): Case => ({
    name: `${kind} (${rows} x ${dim})`,
    setup: (d) => {
      const g = new T.Generator(2);
      const x = T.randn([rows, dim], { device: d, generator: g });
      const w = T.ones([dim], { device: d });
      const u = T.randn([rows, dim], { device: d, generator: g }); // a fixed output weighting, so the gradient is not trivial
      const f = kind === 'softmax' ? (a: T.Tensor) => T.softmax(a) : kind === 'layerNorm' ? (a: T.Tensor, b: T.Tensor) => T.layerNorm(a, b) : (a: T.Tensor, b: T.Tensor) => T.rmsNorm(a, b);
      return { inputs: [x, w], loss: (a, b) => T.sum(T.mul(f(a!, b!), u)), dispose: () => u.dispose() };
    },
  })),
  {
    name: `rotary (1 x 8 x ${rows} x 64)`,
    setup: (d) => {
      const g = new T.Generator(3);
      const x = T.randn([1, 8, rows, 64], { device: d, generator: g });
      const u = T.randn([1, 8, rows, 64], { device: d, generator: g });
      const { cos, sin } = T.rotaryTables(rows, 64, { device: d });
      return { inputs: [x], loss: (a) => T.sum(T.mul(T.applyRotary(a!, cos, sin), u)), dispose: () => [u, cos, sin].forEach((t) => t.dispose()) };
    },
  },
];

async function measure(gpu: WebGpuBackend, c: Case): Promise<{ ms: number; dispatches: number; poolBytes: number; loss: number }> {
  const { inputs, loss, dispose } = c.setup(gpu.name);
  const step = () => {
    const [l, grads] = valueAndGrad(loss)(...inputs);
    [l, ...grads].forEach((t) => t.dispose());
  };
  const [first] = valueAndGrad(loss)(...inputs);
  const value = await first.item();
  first.dispose();
  const before = gpu.context.counters.dispatches;
  step();
  await gpu.sync!();
  const dispatches = gpu.context.counters.dispatches - before;
  const { pooledBytes, liveBytes } = gpu.memory();
  const ms = await timeGpu(gpu, step, { samples: 3, minSampleMs: 300 });
  [...inputs].forEach((t) => t.dispose());
  dispose();
  return { ms, dispatches, poolBytes: pooledBytes + liveBytes, loss: value };
}

const results = [];
let adapter = '';
for (const c of CASES) {
  const row: Record<string, unknown> = { case: c.name };
  for (const variant of ['fused', 'decomposed'] as const) {
    // A fresh backend per run, so the pool footprint is this step's alone.
    const gpu = await createWebGpuBackend({ name: `webgpu-${variant}` });
    adapter = gpu.adapterName;
    // Removing the kernels makes apply() run each backward op's decomposition: what ran before they existed.
    if (variant === 'decomposed') for (const op of FUSED_BACKWARD) (gpu.kernels as Map<T.OpDef, T.Kernel>).delete(op);
    T.registerBackend(gpu);
    const r = await measure(gpu, c);
    row[variant] = r;
    console.log(`${c.name} ${variant}: ${r.ms.toFixed(2)} ms, ${r.dispatches} dispatches, pool ${(r.poolBytes / 2 ** 20).toFixed(1)} MiB, loss ${r.loss}`);
    gpu.destroy();
  }
  results.push(row);
}

const out = resolve(process.argv.find((a) => a.startsWith('--out='))?.split('=')[1] ?? join(here, '..', 'results', 'fused-backward.json'));
mkdirSync(dirname(out), { recursive: true });
const json = JSON.stringify(
  { adapter, date: new Date().toISOString(), machine: { cpus: cpus().length, loadavgAtStart, loadavgAtEnd: loadavg() }, shapes: { tokens, vocab, rows, dim }, results },
  null,
  2,
);
writeFileSync(`${out}.tmp`, json);
renameSync(`${out}.tmp`, out);
console.log(`wrote ${out}`);
