// The studio's built-in run replayed with apps/trainer's loop on the CPU in Node: the losses a page
// must reproduce on any backend (the browser tests hold WebGPU's and gpu.js's to these).
import { ChatExampleTokenizer, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel } from '@tessera/peft';
import { Generator, registerBackend, setBackend } from '@tessera/tensor';
import { instructionTasks } from '@tessera/trainer/instruction-tasks';
import { trainLoop } from '@tessera/trainer/train-loop';
import { expect } from 'vitest';
import type { RunSettings } from '../src/studio-protocol.js';
import { MODEL_DIR } from './studio-harness.js';

/** The per-step losses of `settings.steps` steps of the studio's built-in model and data on the CPU. */
export async function cpuLosses(settings: RunSettings): Promise<number[]> {
  registerBackend(createCpuBackend());
  setBackend('cpu');
  const { model, tokenizer, config } = await loadModel(MODEL_DIR, { device: 'cpu' });
  const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: settings.maxLength, keepText: true });
  // The studio's built-in data: instructionTasks(0, 80, 4), the first 5% of nothing held out (the test split is).
  const train = instructionTasks(0, 80, 4).train.map((e) => chat.tokenize({ messages: e.messages })).filter((t): t is TokenizedExample => t !== null);
  new PeftModel(model, { r: settings.r, loraAlpha: settings.alpha, loraDropout: 0, targetModules: settings.targets, modulesToSave: ['embed_tokens'], ensureWeightTying: true }, 'default', { generator: new Generator(settings.seed) });
  const optimizer = new AdamW(model.trainableParameters(), { lr: settings.lr, weightDecay: 0 });
  const { records } = await trainLoop(model, train, config.padTokenId ?? 0, { lr: settings.lr, schedule: settings.schedule, warmupSteps: settings.warmup, steps: settings.steps, batchSize: settings.batch, gradAccumulation: 1, maxGradNorm: 1, weightDecay: 0, seed: settings.seed }, { optimizer });
  return records.map((r) => r.loss);
}

/** Holds a page's per-step losses on `backend` to the CPU run's: 2e-3 relative (f32 sums in another order). */
export async function expectCpuLosses(backend: string, losses: number[], settings: RunSettings): Promise<void> {
  const cpu = await cpuLosses(settings);
  console.info(`studio ${backend} losses ${losses.map((x) => x.toFixed(5)).join(', ')}; cpu ${cpu.map((x) => x.toFixed(5)).join(', ')}`);
  expect(losses).toHaveLength(settings.steps);
  for (let i = 0; i < settings.steps; i++) expect(Math.abs(losses[i]! - cpu[i]!), `step ${i + 1}: ${backend} ${losses[i]}, cpu ${cpu[i]}`).toBeLessThan(2e-3 * Math.abs(cpu[i]!) + 1e-3);
}
