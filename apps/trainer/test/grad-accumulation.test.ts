import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatExampleTokenizer, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { PeftModel } from '@tessera/peft';
import { Generator, registerBackend } from '@tessera/tensor';
import { instructionTasks } from '../src/data/instruction-tasks.js';
import { lossTokenCount, trainLoop, type TrainLoopOptions } from '../src/train-loop.js';

const MODEL = path.join(fileURLToPath(new URL('..', import.meta.url)), 'assets/default-model');

beforeAll(() => {
  registerBackend(createCpuBackend());
});

async function run(batchSize: number, gradAccumulation: number): Promise<{ losses: number[]; weights: Float32Array[]; rows: TokenizedExample[] }> {
  const { model, tokenizer } = await loadModel(MODEL);
  const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: 96 });
  // Answers of different lengths, so micro-batches carry different numbers of loss tokens.
  const rows = instructionTasks(6, 2, 0).train.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null).slice(0, 6);
  new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }, 'default', { generator: new Generator(1) });
  const o: TrainLoopOptions = { lr: 1e-2, schedule: 'constant', warmupSteps: 0, steps: 3, batchSize, gradAccumulation, maxGradNorm: 1, weightDecay: 0, seed: 4 };
  const { records } = await trainLoop(model, rows, 0, o);
  const weights = await Promise.all(model.trainableParameters().map(async ([, p]) => Float32Array.from(await p.data())));
  return { losses: records.map((r) => r.loss), weights, rows };
}

describe('gradient accumulation', () => {
  it('weights micro-batches by their loss tokens: 2 micro-batches of 1 row give the losses and weights of 1 batch of 2 rows', async () => {
    const big = await run(2, 1);
    const accumulated = await run(1, 2);
    expect(new Set(big.rows.map((r) => lossTokenCount([r]))).size).toBeGreaterThan(1);
    expect(accumulated.losses).toHaveLength(3);
    accumulated.losses.forEach((l, i) => expect(l).toBeCloseTo(big.losses[i]!, 5));
    for (const [k, w] of accumulated.weights.entries()) {
      const ref = big.weights[k]!;
      const scale = Math.max(...ref.map(Math.abs));
      expect(Math.max(...w.map((x, i) => Math.abs(x - ref[i]!))) / scale).toBeLessThan(1e-4);
    }
  });
});
