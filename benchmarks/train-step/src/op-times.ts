// Wall time per op kind in training steps of the train-step benchmark's GPT (full shape), measured
// on the calling thread around each kernel: which kernels a step spends its time in, to aim the CPU
// work at. `pnpm --filter @tessera/bench-train-step op-times [steps]` (default 4 timed steps).
import { cpus } from 'node:os';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { GPT2LMHeadModel, parseGPT2Config } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { Generator, registerBackend, setBackend, tensor, type Kernel, type OpDef } from '@tessera/tensor';
import { languageModelStep } from './language-model-step.js';

const steps = Number(process.argv[2] ?? 4);
const backend = createCpuBackend({ name: 'op-times', threads: cpus().length });
const totals = new Map<string, { ms: number; calls: number }>();
let on = false;
// The backend's kernel table is read-only to users; the timers wrap its entries in place.
const kernels = backend.kernels as Map<OpDef, Kernel>;
for (const [op, kernel] of kernels) {
  kernels.set(op, (inputs, attrs, out) => {
    if (!on) return kernel(inputs, attrs, out);
    const t0 = performance.now();
    const r = kernel(inputs, attrs, out);
    const t = totals.get(op.name) ?? { ms: 0, calls: 0 };
    t.ms += performance.now() - t0;
    t.calls++;
    totals.set(op.name, t);
    return r;
  });
}
const adamw = backend.adamwUpdate;
if (adamw) {
  backend.adamwUpdate = (...args) => {
    const t0 = performance.now();
    const r = adamw(...args);
    const t = totals.get('adamwUpdate') ?? { ms: 0, calls: 0 };
    t.ms += performance.now() - t0;
    t.calls++;
    totals.set('adamwUpdate', t);
    return r;
  };
}
registerBackend(backend);
setBackend('op-times');
const config = parseGPT2Config({ model_type: 'gpt2', vocab_size: 4096, n_embd: 256, n_layer: 4, n_head: 4, n_positions: 128 });
const model = new GPT2LMHeadModel(config, { generator: new Generator(0) });
const opt = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 0.01 });
const ids = new Int32Array(8 * 128).map((_, i) => (i * 7919) % 4096);
const input = tensor(ids, { shape: [8, 128], dtype: 'i32' });
const step = languageModelStep(model, opt, input);
await step();
on = true;
const t0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const wall = (performance.now() - t0) / steps;
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const inKernels = rows.reduce((s, [, t]) => s + t.ms, 0) / steps;
console.log(`step ${wall.toFixed(0)} ms wall, ${inKernels.toFixed(0)} ms in kernels, ${(wall - inKernels).toFixed(0)} ms outside`);
for (const [name, t] of rows) console.log(`${(t.ms / steps).toFixed(1).padStart(8)} ms  ${String(t.calls / steps).padStart(4)} calls  ${name}`);
process.exit(0);
