import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatExampleTokenizer, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { PeftModel } from '@tessera/peft';
import { Generator, registerBackend } from '@tessera/tensor';
import { instructionTasks } from '../src/data/instruction-tasks.js';
import { validationLoss } from '../src/train-loop.js';

const MODEL = path.join(fileURLToPath(new URL('..', import.meta.url)), 'assets/default-model');

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('validationLoss', () => {
  it('runs in eval mode (LoRA dropout off, no draws from the dropout generator) and puts the model back in train mode', async () => {
    const { model, tokenizer } = await loadModel(MODEL);
    const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: 64 });
    const rows = instructionTasks(4, 1, 0).train.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null);
    const generator = new Generator(9);
    new PeftModel(model, { r: 4, loraAlpha: 8, loraDropout: 0.5, targetModules: ['q_proj', 'v_proj'], initLoraWeights: false }, 'default', { generator });
    model.eval();
    const evalLoss = await validationLoss(model, rows, 0);
    expect(model.training).toBe(false);
    model.train();
    const counter = generator.getState().counter;
    const a = await validationLoss(model, rows, 0);
    const b = await validationLoss(model, rows, 0);
    expect([a, b]).toEqual([evalLoss, evalLoss]);
    expect(generator.getState().counter).toBe(counter);
    expect(model.training).toBe(true);
    expect(model.namedModules().every(([, m]) => m.training)).toBe(true);
  });
});
