import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { Generator, registerBackend } from '@tessera/tensor';
import { loadModel } from '@tessera/models';
import { PeftModel } from '@tessera/peft';
import { AdamW } from '@tessera/optim';
import { ChatExampleTokenizer, type TokenizedExample } from '@tessera/datasets';
import { instructionTasks } from '../src/data/instruction-tasks.js';
import { trainLoop, type TrainLoopOptions } from '../src/train-loop.js';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint.js';
import { pretrainTinyBase } from './tiny-base.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('checkpoint and --resume', () => {
  it('a run stopped after 3 steps and resumed from its checkpoint reaches the same losses as an uninterrupted run', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-resume-'));
    const base = path.join(dir, 'base');
    await pretrainTinyBase(base);
    const opts: TrainLoopOptions = { lr: 5e-3, schedule: 'cosine', warmupSteps: 2, steps: 6, batchSize: 3, gradAccumulation: 1, maxGradNorm: 1, weightDecay: 0, seed: 3 };
    const fresh = async () => {
      const { model, tokenizer, config } = await loadModel(base);
      const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: 64 });
      // 7 examples with batch 3: the resumed part crosses an epoch boundary.
      const examples = instructionTasks(0, 2, 0).train.slice(0, 7).map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null);
      const peft = new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }, 'default', { generator: new Generator(1) });
      return { model, peft, examples, pad: config.padTokenId ?? 0 };
    };
    const a = await fresh();
    const whole = (await trainLoop(a.model, a.examples, a.pad, opts)).records.map((r) => r.loss);

    const b = await fresh();
    let n = 0;
    const first = await trainLoop(b.model, b.examples, b.pad, opts, { shouldStop: () => n++ >= 3 });
    expect(first.records).toHaveLength(3);
    const ckpt = path.join(dir, 'checkpoint');
    await saveCheckpoint(ckpt, b.peft, first.optimizer, { cursor: first.cursor, records: first.records });

    const c = await fresh();
    const optimizer = new AdamW(c.model.trainableParameters(), { lr: opts.lr, weightDecay: opts.weightDecay });
    const state = await loadCheckpoint(ckpt, c.peft, optimizer);
    const rest = await trainLoop(c.model, c.examples, c.pad, opts, { optimizer, cursor: state.cursor });
    expect([...first.records, ...rest.records].map((r) => r.loss)).toEqual(whole);
  });
});
