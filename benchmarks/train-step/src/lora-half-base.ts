// LoRA on a frozen bf16 base: does the CPU matmul read the bf16 weights directly, and what does it
// save? Three variants of the trainer's default model, each its own CPU backend, steps interleaved:
//   f32         the checkpoint widened to f32 at load (loadModel's default, what the trainer does);
//   bf16-cast   bf16 parameters, matmul casting them to f32 first (the path before issue 7's
//               direct f16/bf16 gemm: the backend's `halfInputs` emptied);
//   bf16        bf16 parameters read directly by the WebAssembly gemm.
// Reported per variant: parameter bytes, peak live tensor bytes in a step (memory().peakBytes),
// f32 casts of base weights per step (a counting cast kernel), median step wall and CPU time.
// Usage: node --conditions=@tessera/source --import tsx src/lora-half-base.ts [--steps=N] [--batch=B] [--seq=T]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPU_KERNELS, createCpuBackend, type CpuKernel } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel } from '@tessera/peft';
import { Generator, OPS, memory, registerBackend, resetPeakMemory, setBackend, tensor, type DType } from '@tessera/tensor';
import { languageModelStep } from './language-model-step.js';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_MODEL = join(here, '..', '..', '..', 'apps', 'trainer', 'assets', 'default-model');
const arg = (name: string, fallback: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const steps = arg('steps', 4);
const batch = arg('batch', 8);
const seqWanted = arg('seq', 128);

interface Variant {
  readonly name: 'f32' | 'bf16-cast' | 'bf16';
  readonly dtype: DType;
  readonly direct: boolean;
}
const VARIANTS: Variant[] = [
  { name: 'f32', dtype: 'f32', direct: true },
  { name: 'bf16-cast', dtype: 'bf16', direct: false },
  { name: 'bf16', dtype: 'bf16', direct: true },
];

/**
 * Casts to f32 of at least `minElements` elements: the base weights, but also bf16 activations (the
 * bf16 model's hidden states are bf16; adding an f32 adapter output widens them) and the embedding
 * table, which the gather kernel still reads widened.
 */
let bigCasts = 0;
const countingCast = (minElements: number): CpuKernel => (inputs, attrs, out) => {
  const size = out.shape.reduce((a, b) => a * b, 1);
  if (out.dtype === 'f32' && inputs[0]!.dtype !== 'f32' && size >= minElements) bigCasts++;
  return CPU_KERNELS.get(OPS.cast)!(inputs, attrs, out);
};

async function setUp(v: Variant) {
  const name = `lora-${v.name}`;
  const backend = registerBackend(createCpuBackend({ name, kernels: new Map([[OPS.cast, countingCast(128 * 128)]]) }));
  if (!v.direct) (backend.halfInputs as Set<unknown>).clear();
  setBackend(name);
  const before = memory().backends[name]?.numBytes ?? 0;
  const { model, config } = await loadModel(DEFAULT_MODEL, { dtype: v.dtype });
  const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  const peft = new PeftModel(model, { r: 8, loraAlpha: 16, loraDropout: 0, targetModules: targets }, 'default', { generator: new Generator(0) });
  const opt = new AdamW(model.trainableParameters(), { lr: 1e-3, weightDecay: 0.01 });
  const seq = Math.min(seqWanted, config.maxPositionEmbeddings);
  const ids = Int32Array.from({ length: batch * seq }, (_, i) => (i * 7919 + 13) % config.vocabSize);
  const input = tensor(Array.from(ids), { shape: [batch, seq], dtype: 'i32' });
  model.train();
  const paramBytes = (memory().backends[name]?.numBytes ?? 0) - before;
  const trainStep = languageModelStep(model, opt, input);
  const step = (): { loss: number; ms: number; cpuMs: number; peak: number; casts: number } => {
    setBackend(name);
    const c0 = bigCasts;
    resetPeakMemory();
    const base = memory().numBytes;
    const t0 = performance.now();
    const c0cpu = process.cpuUsage();
    const value = trainStep();
    const cpu = process.cpuUsage(c0cpu);
    return { loss: value, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, peak: memory().peakBytes - base, casts: bigCasts - c0 };
  };
  return { v, paramBytes, step, seq, trainable: peft.trainableParameters() };
}

const runs = [];
for (const v of VARIANTS) runs.push(await setUp(v));
const results = new Map<string, { ms: number[]; cpuMs: number[]; peak: number; casts: number; losses: number[] }>();
for (const r of runs) results.set(r.v.name, { ms: [], cpuMs: [], peak: 0, casts: 0, losses: [] });
// One warm-up step each, then the timed steps interleaved so machine load hits every variant alike.
for (let i = 0; i <= steps; i++) {
  for (const r of runs) {
    const s = r.step();
    const acc = results.get(r.v.name)!;
    acc.losses.push(s.loss);
    if (i === 0) continue;
    acc.ms.push(s.ms);
    acc.cpuMs.push(s.cpuMs);
    acc.peak = Math.max(acc.peak, s.peak);
    acc.casts = s.casts;
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = runs.map((r) => {
  const acc = results.get(r.v.name)!;
  return {
    variant: r.v.name,
    paramMiB: +(r.paramBytes / 2 ** 20).toFixed(3),
    peakStepMiB: +(acc.peak / 2 ** 20).toFixed(3),
    baseWeightCastsPerStep: acc.casts,
    medianStepMs: +median(acc.ms).toFixed(1),
    // Process CPU time (both threads): less moved by other load on the machine than wall time.
    medianStepCpuMs: +median(acc.cpuMs).toFixed(1),
    tokensPerSec: +((batch * r.seq * 1000) / median(acc.ms)).toFixed(0),
    firstLoss: +acc.losses[0]!.toFixed(4),
    lastLoss: +acc.losses.at(-1)!.toFixed(4),
  };
});
console.log(JSON.stringify({ batch, seq: runs[0]!.seq, steps, load: (await import('node:os')).loadavg()[0], rows }, null, 2));
