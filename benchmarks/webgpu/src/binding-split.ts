/**
 * What binding windows cost: one tied-embedding training step (embedding lookup, h·Wᵀ, cross-entropy,
 * backward, AdamW on the table) with the whole table in one binding, and with the binding limit
 * lowered (`bindingLimitBytes`) so the table spans several windows. Same device, same numbers.
 *
 *   pnpm --filter @tessera/bench-webgpu bench:split [--vocab=8192 --dim=256 --tokens=64 --windows=8 --out=...]
 *
 * Writes results/binding-split.json (temporary name, then renamed), naming the adapter.
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
const [vocab, dim, tokens, windows] = [arg('vocab', 8192), arg('dim', 256), arg('tokens', 64), arg('windows', 8)];
const tableBytes = vocab * dim * 4;
// A power of two at most tableBytes / windows, so the table spans at least `windows` bindings.
const limit = 2 ** Math.floor(Math.log2(tableBytes / windows));

const loadavgAtStart = loadavg();
T.registerBackend(createCpuBackend());
const whole = await createWebGpuBackend({ name: 'webgpu' });
const split = await createWebGpuBackend({ name: 'webgpu-split', bindingLimitBytes: limit });
T.registerBackend(whole);
T.registerBackend(split);

/** ms per step, dispatches per step, and the first step's loss (equal on both when the windows are right). */
async function step(gpu: WebGpuBackend): Promise<{ ms: number; dispatches: number; firstLoss: number }> {
  const d = gpu.name;
  const g = new T.Generator(1);
  let table = T.mul(T.randn([vocab, dim], { device: d, generator: g }), 0.02);
  const gain = T.ones([dim], { device: d });
  let m = T.zerosLike(table);
  let v = T.zerosLike(table);
  const ids = T.randint(0, vocab, [tokens], { device: d, generator: g });
  const targets = T.randint(0, vocab, [tokens], { device: d, generator: g });
  const lossOf = (w: T.Tensor, s: T.Tensor) => T.crossEntropy(T.matmul(T.rmsNorm(T.embedding(ids, w), s), T.transpose(w, 0, 1)), targets);
  let n = 0;
  let last: T.Tensor | null = null;
  const run = () => {
    const [loss, [dTable]] = valueAndGrad(lossOf)(table, gain);
    const r = T.adamwStep(table, dTable!, m, v, { lr: 1e-3, step: ++n });
    [table, m, v].forEach((t) => t.dispose());
    [table, m, v] = [r.param, r.m, r.v];
    dTable!.dispose();
    last?.dispose();
    last = loss;
  };
  const before = gpu.context.counters.dispatches;
  run();
  const dispatches = gpu.context.counters.dispatches - before;
  const firstLoss = await last!.item();
  const ms = await timeGpu(gpu, run, { samples: 3, minSampleMs: 300 });
  return { ms, dispatches, firstLoss };
}

const resultWhole = await step(whole);
const resultSplit = await step(split);
const result = {
  date: new Date().toISOString(),
  adapter: { name: whole.adapterName },
  host: { cpus: cpus().length, loadavgAtStart, loadavgAtEnd: loadavg() },
  config: { vocab, dim, tokens, tableBytes, bindingLimitBytes: limit, windowsPerTable: tableBytes / limit },
  timing: 'median ms per step (forward, backward, AdamW, queued then synced) over 3 samples of >= 300 ms, after a warm-up step (whose loss is firstLoss)',
  whole: resultWhole,
  split: resultSplit,
  slowdown: resultSplit.ms / resultWhole.ms,
};
console.log(JSON.stringify(result, null, 2));
const out = resolve(process.argv.find((a) => a.startsWith('--out='))?.split('=')[1] ?? join(here, '..', 'results', 'binding-split.json'));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${out}.tmp`, out);
whole.destroy();
split.destroy();
process.exit(0);
