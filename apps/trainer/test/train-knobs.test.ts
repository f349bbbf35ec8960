import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ChatExampleTokenizer, packSequences, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { registerBackend } from '@tessera/tensor';
import { trainCommand } from '../src/commands/train.js';
import { validateRunConfig } from '../src/config/run-config.js';
import { instructionTasks } from '../src/data/instruction-tasks.js';
import { batchTensors } from '../src/train-loop.js';
import { tinyBaseAndData } from './tiny-base.js';

// Every checkpoint the command saves is also copied aside as <dir>-step<N> (checkpoint-copies.ts).
vi.mock('../src/checkpoint.js', async (original) => (await import('./checkpoint-copies.js')).copyingEverySave(await original()));

let dir: string;
let base: string;
let data: string;
const common = { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'], lr: 5e-3, warmup: 0, batch: 2, maxLength: 96, seed: 1 };

beforeAll(async () => {
  registerBackend(createCpuBackend());
  ({ dir, base, data } = await tinyBaseAndData('tessera-knobs-', { seed: 2, perFamily: 8 }, { hiddenSize: 64 }));
});

describe('train knobs', () => {
  it('--method qlora trains LoRA over an NF4 base whose starting loss is the dense one up to quantisation error', async () => {
    const lora = await trainCommand({ model: base, data, out: path.join(dir, 'lora'), overrides: { ...common, method: 'lora', steps: 3 }, quiet: true });
    const qlora = await trainCommand({ model: base, data, out: path.join(dir, 'qlora'), overrides: { ...common, method: 'qlora', steps: 3 }, quiet: true });
    expect(qlora.losses).toHaveLength(3);
    expect(qlora.losses.every(Number.isFinite)).toBe(true);
    // Step 1 runs before any update (B = 0): the only difference is the 4-bit base.
    expect(qlora.losses[0]).not.toBe(lora.losses[0]);
    expect(Math.abs(qlora.losses[0]! - lora.losses[0]!)).toBeLessThan(0.05 * lora.losses[0]!);
    const cfg = JSON.parse(await readFile(path.join(dir, 'qlora', 'adapter', 'adapter_config.json'), 'utf8'));
    expect(cfg.target_modules.sort()).toEqual(['q_proj', 'v_proj']);
  });

  it('--packing packs examples into fewer rows with per-example positions and no label across a boundary', async () => {
    const { tokenizer } = await loadModel(base);
    const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: 96 });
    const ex = instructionTasks(2, 1, 0).train.slice(0, 3).map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null);
    const packs = packSequences(ex, { maxLength: 200, strategy: 'greedy' });
    expect(packs).toHaveLength(1);
    const b = batchTensors(packs, 0);
    const positions = Array.from(await b.positions!.data());
    const labels = Array.from(await b.labels.data());
    let at = 0;
    for (const e of ex) {
      expect(positions.slice(at, at + e.inputIds.length)).toEqual(e.inputIds.map((_, i) => i));
      expect(labels[at]).toBe(-100);
      at += e.inputIds.length;
    }
    expect(batchTensors(ex, 0).positions).toBeUndefined();
    // The packed row's mask is block-diagonal: the last token sees only its own example.
    const t = b.ids.shape[1]!;
    expect(b.mask.shape).toEqual([1, t, t]);
    const lastRow = Array.from(await b.mask.data()).slice((at - 1) * t, at * t);
    const lastLen = ex[ex.length - 1]!.inputIds.length;
    expect(lastRow.map((x, j) => (x !== 0) === (j >= at - lastLen && j < at))).toEqual(lastRow.map(() => true));

    const out = path.join(dir, 'packed');
    const r = await trainCommand({ model: base, data, out, overrides: { ...common, packing: true, steps: 3 }, quiet: true });
    expect(r.losses).toHaveLength(3);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    const tokens = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.phase === 'train').map((m) => m.tokens);
    const unpackedTokens = (await readFile(path.join(dir, 'lora', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.phase === 'train').map((m) => m.tokens);
    // Two packed rows per step carry more answer tokens than two single examples.
    expect(tokens[0]).toBeGreaterThan(unpackedTokens[0]);
  });

  it('stops early when validation loss has not improved for --patience validations, keeping the best adapter (byte-identical to that step\'s), also across --resume', async () => {
    const out = path.join(dir, 'early');
    // A learning rate far too high makes validation loss rise after the first steps; a constant
    // schedule makes a shorter run with the same settings the same run up to its last step.
    const knobs = { ...common, lr: 0.5, schedule: 'constant' as const, evalEvery: 1, patience: 2 };
    const r = await trainCommand({ model: base, data, out, overrides: { ...knobs, steps: 30, saveEvery: 1 }, quiet: true });
    expect(r.earlyStopped).toBe(true);
    expect(r.losses.length).toBeLessThan(30);
    const v = r.validation.map(([, l]) => l);
    const bestAt = v.indexOf(Math.min(...v.filter(Number.isFinite)));
    expect(v.length - 1 - bestAt).toBe(2);
    const bestStep = r.validation[bestAt]![0];
    const bestAdapter = await readFile(path.join(out, 'best-adapter', 'adapter_model.safetensors'));
    // The best step's adapter: the same settings stopped at that step (validating, so the same 5% is held out).
    await trainCommand({ model: base, data, out: path.join(dir, 'to-best'), overrides: { ...common, lr: 0.5, schedule: 'constant', steps: bestStep, evalEvery: 1 }, quiet: true });
    expect(bestAdapter).toEqual(await readFile(path.join(dir, 'to-best', 'adapter', 'adapter_model.safetensors')));
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ model: base, data, earlyStopped: true, steps: r.losses.length, device: 'cpu' });
    expect(summary.tokensPerSecond).toBeGreaterThan(0);
    expect(summary.config.patience).toBe(2);

    // Resumed one step after the best, into the same run folder: the best loss, the best adapter and
    // the patience count carry over, so it stops at the same step and leaves best-adapter as it was.
    const resumed = await trainCommand({ model: base, data, out, resume: path.join(out, `checkpoint-step${bestStep + 1}`), overrides: { ...knobs, steps: 30, saveEvery: 1 }, quiet: true });
    expect(resumed.earlyStopped).toBe(true);
    expect(resumed.losses).toEqual(r.losses.slice(bestStep + 1));
    expect(resumed.validation).toEqual(r.validation);
    expect(await readFile(path.join(out, 'best-adapter', 'adapter_model.safetensors'))).toEqual(bestAdapter);
    expect(JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')).bestValidationLoss).toBe(v[bestAt]);
    // The final checkpoint of the early-stopped run, resumed into a new folder (the command line's
    // default): it stays stopped (no step trains), and the best adapter comes along from the run's folder.
    const again = path.join(dir, 'early-again');
    const stopped = await trainCommand({ model: base, data, out: again, resume: path.join(out, 'checkpoint'), overrides: { ...knobs, steps: 30, saveEvery: 1 }, quiet: true });
    expect(stopped.earlyStopped).toBe(true);
    expect(stopped.losses).toEqual([]);
    expect(await readFile(path.join(again, 'best-adapter', 'adapter_model.safetensors'))).toEqual(bestAdapter);
    expect(JSON.parse(await readFile(path.join(again, 'best.json'), 'utf8'))).toEqual({ step: bestStep, validationLoss: v[bestAt] });
    expect(JSON.parse(await readFile(path.join(again, 'summary.json'), 'utf8'))).toMatchObject({ earlyStopped: true, bestValidationLoss: v[bestAt], steps: r.losses.length });
    await expect(trainCommand({ model: base, data, out: path.join(dir, 'x'), overrides: { ...common, patience: 2 }, quiet: true })).rejects.toThrow('"patience" is 2 but "evalEvery" is 0');
  });

  it('--resume continues a run with LoRA dropout, gradient accumulation and packing exactly (the dropout generator\'s position is saved)', async () => {
    const knobs = { ...common, dropout: 0.3, gradAccumulation: 2, packing: true, steps: 4, saveEvery: 2 };
    const out = path.join(dir, 'dropout');
    const whole = await trainCommand({ model: base, data, out, overrides: knobs, quiet: true });
    const state = JSON.parse(await readFile(path.join(out, 'checkpoint-step2', 'trainer_state.json'), 'utf8'));
    expect(state.dropoutGenerator.counter).toBeGreaterThan(0);
    const rest = await trainCommand({ model: base, data, out: path.join(dir, 'dropout-resumed'), resume: path.join(out, 'checkpoint-step2'), overrides: knobs, quiet: true });
    expect(rest.losses).toEqual(whole.losses.slice(2));
    expect(await readFile(path.join(dir, 'dropout-resumed', 'adapter', 'adapter_model.safetensors'))).toEqual(await readFile(path.join(out, 'adapter', 'adapter_model.safetensors')));
  });

  it('validates the new config keys', () => {
    expect(validateRunConfig({ patience: 3, backend: 'webgpu', method: 'qlora', packing: true }, 'run.yaml')).toEqual({ patience: 3, backend: 'webgpu', method: 'qlora', packing: true });
    expect(() => validateRunConfig({ patience: -1 }, 'run.yaml')).toThrow('run.yaml: "patience" is -1; expected an integer ≥ 0');
    expect(() => validateRunConfig({ backend: 'cuda' }, 'run.yaml')).toThrow('run.yaml: "backend" is "cuda"; expected one of "cpu", "webgpu"');
    expect(() => validateRunConfig({ packing: 'yes' }, 'run.yaml')).toThrow('"packing" is "yes"; expected true or false');
  });
});
