import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { registerBackend } from '@tessera/tensor';
import { loadModel } from '@tessera/models';
import { defaultRun, DEFAULT_RUN } from '../src/commands/default-run.js';
import { pretrainTinyBase } from './tiny-base.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('the default run, reduced', () => {
  it('pretrains a tiny base, then evaluates, fine-tunes with LoRA, evaluates again and writes the run folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-train-'));
    const modelDir = path.join(dir, 'base');
    const pre = await pretrainTinyBase(modelDir, { steps: 4 });
    expect(pre.losses).toHaveLength(4);
    const loaded = await loadModel(modelDir);
    expect(loaded.tokenizer?.config.chat_template).toContain('<|assistant|>');
    expect(loaded.config.torchDtype).toBe('bfloat16');

    // A continuation (stages 3 and 4 of the committed base) keeps the tokenizer and mixes in the drills.
    const contDir = path.join(dir, 'cont');
    const cont = await pretrainTinyBase(contDir, { init: modelDir, batch: 8, steps: 2, paragraphs: 50, arithMix: 0.5, namesMix: 0.25 });
    expect(cont.losses.every(Number.isFinite)).toBe(true);
    expect(await readFile(path.join(contDir, 'tokenizer.json'), 'utf8')).toBe(await readFile(path.join(modelDir, 'tokenizer.json'), 'utf8'));
    await expect(pretrainTinyBase(contDir, { init: modelDir, batch: 8, steps: 1, paragraphs: 50, arithMix: 0.75, namesMix: 0.25 })).rejects.toThrow(/keep their sum at most 1/);

    const out = path.join(dir, 'run');
    // Not quiet, off a terminal: progress comes as plain lines (always one at the end of a bar).
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void printed.push(s));
    const { before, after } = await defaultRun({ ...DEFAULT_RUN, model: modelDir, out, trainPerFamily: 8, testPerFamily: 2, validationPerFamily: 2, evalEvery: 2, loop: { ...DEFAULT_RUN.loop, steps: 3, batchSize: 4, warmupSteps: 1 } }).finally(() => log.mockRestore());
    // The test split before and after training, and the validation split: 10 examples each.
    expect(printed.filter((l) => l === 'eval 10/10 examples | ETA 0 s')).toHaveLength(3);
    expect(printed.filter((l) => /^train 3\/3 \| loss [\d.]+ \| lr \S+ \| \d+ input tok\/s \| ETA 0 s$/.test(l))).toHaveLength(1);
    expect(Object.keys(after.families).sort()).toEqual(['arithmetic', 'facts', 'ner', 'sentiment', 'string']);
    expect(Number.isFinite(before.overall.loss) && Number.isFinite(after.overall.loss)).toBe(true);
    const files = await readdir(out);
    for (const f of ['summary.json', 'metrics.jsonl', 'report.html', 'samples.jsonl', 'adapter']) expect(files).toContain(f);
    expect((await readdir(path.join(out, 'adapter'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.after.families.ner.examples).toBe(2);
    expect(summary.validationAfter.families.ner.examples).toBe(2);
    expect(summary.data.validationExamples).toBe(10);
    expect(typeof summary.after.nerMicroF1).toBe('number');
    const metrics = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.phase === 'train')).toHaveLength(3);
    expect(metrics.filter((m) => m.phase === 'validation').map((m) => m.step)).toEqual([2]);
    expect((await readFile(path.join(out, 'samples.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(3);
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('<svg');
  });
});
