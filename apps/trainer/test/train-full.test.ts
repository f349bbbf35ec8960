import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { readSafetensors } from '@tessera/safetensors';
import { AdamW } from '@tessera/optim';
import { memory, registerBackend } from '@tessera/tensor';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint.js';
import { trainCommand } from '../src/commands/train.js';
import { tinyBaseAndData } from './tiny-base.js';

let dir: string;
let base: string;
let data: string;
const full = { method: 'full', lr: 2e-3, warmup: 0, batch: 2, maxLength: 96, seed: 2, steps: 6 } as const;

beforeAll(async () => {
  registerBackend(createCpuBackend());
  ({ dir, base, data } = await tinyBaseAndData('tessera-full-', { seed: 3, perFamily: 4 }));
});

afterEach(() => {
  vi.restoreAllMocks();
});

// Ctrl-C at a known step: the run folder's metric() sends SIGINT to this process once it logs step `at`.
const interrupt = vi.hoisted(() => ({ at: 0 }));
vi.mock('../src/run-folder.js', async (original) => {
  const { RunFolder } = await original<typeof import('../src/run-folder.js')>();
  class Interrupting extends RunFolder {
    override async metric(record: Record<string, unknown>): Promise<void> {
      await super.metric(record);
      if (record.phase === 'train' && record.step === interrupt.at) process.emit('SIGINT');
    }
  }
  return { RunFolder: Interrupting };
});

describe('train --method full', () => {
  it('saves the trained model as a Hugging Face folder (model/, best-model/) that loadModel reads back', async () => {
    const out = path.join(dir, 'saved');
    const r = await trainCommand({ model: base, data, out, overrides: { ...full, evalEvery: 3 }, quiet: true });
    expect(r.losses).toHaveLength(6);
    expect((await readdir(path.join(out, 'model'))).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const trained = await loadModel(path.join(out, 'model'));
    const start = await loadModel(base);
    const names = [...start.model.stateDict().keys()];
    expect([...trained.model.stateDict().keys()]).toEqual(names);
    // Every weight trained (embeddings, norms, projections), not only some.
    const changed = await Promise.all(
      names.map(async (n) => {
        const [a, b] = [await trained.model.stateDict().get(n)!.data(), await start.model.stateDict().get(n)!.data()];
        return a.some((x, i) => x !== b[i]);
      }),
    );
    expect(changed.filter((c) => !c)).toEqual([]);
    expect(existsSync(path.join(out, 'best-model', 'model.safetensors'))).toBe(true);
  });

  it('Ctrl-C saves a full checkpoint (weights + AdamW moments of every parameter) that --resume continues to the uninterrupted losses and weights', async () => {
    const whole = await trainCommand({ model: base, data, out: path.join(dir, 'whole'), overrides: full, quiet: true });
    const out = path.join(dir, 'interrupted');
    const logs: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void logs.push(s));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    interrupt.at = 2;
    const first = await trainCommand({ model: base, data, out, overrides: full });
    interrupt.at = 0;
    vi.restoreAllMocks();
    expect(first.interrupted).toBe(true);
    expect(first.losses).toHaveLength(2);
    const ckpt = path.join(out, 'checkpoint');
    expect(logs).toContain('\nCtrl-C: finishing this step, saving a checkpoint and exiting (press again to quit at once)');
    expect(logs.at(-1)).toBe(`interrupted at step ${first.losses.length}; resume with --resume ${ckpt}`);
    expect((await readdir(ckpt)).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    const moments = readSafetensors(await readFile(path.join(ckpt, 'optimizer.safetensors')));
    const params = (await loadModel(base)).model.namedParameters().map(([n]) => n).sort();
    expect([...new Set([...moments.tensors.keys()].map((k) => k.split('::')[0]))].sort()).toEqual(params);
    expect(existsSync(path.join(out, 'model'))).toBe(false);

    // LoRA's settings do nothing for a full fine-tune, so they may differ on --resume.
    const rest = await trainCommand({ model: base, data, out: path.join(dir, 'resumed'), resume: ckpt, overrides: { ...full, r: 16, alpha: 3, targets: ['k_proj'] }, quiet: true });
    expect([...first.losses, ...rest.losses]).toEqual(whole.losses);
    expect(await readFile(path.join(dir, 'resumed', 'model', 'model.safetensors'))).toEqual(await readFile(path.join(dir, 'whole', 'model', 'model.safetensors')));
    await expect(trainCommand({ model: base, data, out: path.join(dir, 'wrong'), resume: ckpt, overrides: { ...full, method: 'lora' }, quiet: true })).rejects.toThrow(`--resume ${ckpt}: the checkpoint was trained with method "full", this run has "lora"`);
  });

  it('loading a full checkpoint leaves no tensor undisposed: the weights it reads are assigned, then disposed', async () => {
    const { model } = await loadModel(base);
    for (const [, p] of model.namedParameters()) p.requiresGrad = true;
    const optimizer = new AdamW(model.trainableParameters(), { lr: 1e-3 });
    const ckpt = path.join(dir, 'leak', 'checkpoint');
    await saveCheckpoint(ckpt, model, optimizer, { cursor: { step: 0, epoch: 0, index: 0 } });
    await loadCheckpoint(ckpt, model, optimizer);
    const before = memory().numUndisposed;
    await loadCheckpoint(ckpt, model, optimizer);
    expect(memory().numUndisposed).toBe(before);
  });
});
