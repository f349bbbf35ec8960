import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatExampleTokenizer, packSequences, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { PeftModel } from '@tessera/peft';
import { Generator, registerBackend } from '@tessera/tensor';
import { instructionTasks } from '../src/data/instruction-tasks.js';
import { batchTensors, trainLoop } from '../src/train-loop.js';

const MODEL = path.join(fileURLToPath(new URL('..', import.meta.url)), 'assets/default-model');

beforeAll(() => {
  registerBackend(createCpuBackend());
});

const labelled = (rows: readonly TokenizedExample[]): number => rows.reduce((n, r) => n + r.labels.filter((l) => l !== -100).length, 0);
const inputs = (rows: readonly { inputIds: Int32Array }[]): number => rows.reduce((n, r) => n + r.inputIds.length, 0);

describe('token counts of the training loop', () => {
  it('the progress rate counts real input tokens (prompts in, padding out); records keep the loss tokens', async () => {
    const { model, tokenizer } = await loadModel(MODEL);
    const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: 96 });
    const rows = instructionTasks(3, 1, 0).train.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null).slice(0, 4);
    expect(new Set(rows.map((r) => r.inputIds.length)).size).toBeGreaterThan(1); // batches carry padding

    // batchTensors: padding is not an input token, a prompt token is.
    const b = batchTensors(rows, 0);
    expect(b.ids.shape[0]! * b.ids.shape[1]!).toBeGreaterThan(inputs(rows));
        expect(b.inputTokens).toBe(inputs(rows));
    expect(b.tokens).toBe(labelled(rows));
    const packs = packSequences(rows, { maxLength: 96 });
        expect(batchTensors(packs, 0).inputTokens).toBe(inputs(rows));

    new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }, 'default', { generator: new Generator(1) });
    const shown: number[] = [];
    // Batch 2 for 2 steps: one epoch, every row once.
    const { records } = await trainLoop(model, rows, 0, { lr: 1e-3, schedule: 'constant', warmupSteps: 0, steps: 2, batchSize: 2, gradAccumulation: 1, maxGradNorm: 1, weightDecay: 0, seed: 0 }, {
      progress: { update: (_step, _loss, _lr, inputTokensPerSecond) => void shown.push(inputTokensPerSecond), stop: () => undefined },
    });
    expect(records.reduce((n, r) => n + r.tokens, 0)).toBe(labelled(rows));
    // The last rate is all input tokens over the loop's seconds so far, the last record's.
    expect(shown.at(-1)! * records.at(-1)!.seconds).toBeCloseTo(inputs(rows), 6);
    expect(inputs(rows)).toBeGreaterThan(labelled(rows));
  });

  it('a step with no loss token (every micro-batch all -100) is skipped: no NaN reaches the weights, the step still counts', async () => {
    const { model, tokenizer } = await loadModel(MODEL);
    const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: 96 });
    const rows = instructionTasks(3, 1, 0).train.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null).slice(0, 2);
    const silent = rows.map((r) => ({ ...r, labels: r.labels.map(() => -100) }));
    new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }, 'default', { generator: new Generator(1) });
    const before = await Promise.all(model.trainableParameters().map(async ([, p]) => [...(await p.data())]));
    for (const gradAccumulation of [1, 2]) {
      const { records, cursor } = await trainLoop(model, silent, 0, { lr: 1e-2, schedule: 'constant', warmupSteps: 0, steps: 2, batchSize: 1, gradAccumulation, maxGradNorm: 1, weightDecay: 0.1, seed: 0 });
      expect(cursor.step).toBe(2);
      expect(records.map((r) => [r.tokens, Number.isNaN(r.loss)])).toEqual([[0, true], [0, true]]);
    }
    const after = await Promise.all(model.trainableParameters().map(async ([, p]) => [...(await p.data())]));
    expect(after).toEqual(before);
  });
});
