import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { registerBackend } from '@tessera/tensor';
import { loadModel } from '@tessera/models';
import { pretrain, PRETRAIN_DEFAULTS } from '../src/commands/pretrain.js';
import { defaultRun, DEFAULT_RUN } from '../src/commands/default-run.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('the default run, reduced', () => {
  it('pretrains a tiny base, then evaluates, fine-tunes with LoRA, evaluates again and writes the run folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-train-'));
    const modelDir = path.join(dir, 'base');
    const pre = await pretrain({ ...PRETRAIN_DEFAULTS, out: modelDir, hiddenSize: 32, layers: 1, heads: 2, vocabSize: 400, seqLen: 32, batch: 4, steps: 4, paragraphs: 300, quiet: true });
    expect(pre.losses).toHaveLength(4);
    const loaded = await loadModel(modelDir);
    expect(loaded.tokenizer?.config.chat_template).toContain('<|assistant|>');
    expect(loaded.config.torchDtype).toBe('bfloat16');

    const out = path.join(dir, 'run');
    const { before, after } = await defaultRun({ ...DEFAULT_RUN, model: modelDir, out, trainPerFamily: 8, testPerFamily: 2, quiet: true, loop: { ...DEFAULT_RUN.loop, steps: 3, batchSize: 4, warmupSteps: 1 } });
    expect(Object.keys(after.families).sort()).toEqual(['arithmetic', 'facts', 'ner', 'sentiment', 'string']);
    expect(Number.isFinite(before.overall.loss) && Number.isFinite(after.overall.loss)).toBe(true);
    const files = await readdir(out);
    for (const f of ['summary.json', 'metrics.jsonl', 'report.html', 'samples.jsonl', 'adapter']) expect(files).toContain(f);
    expect((await readdir(path.join(out, 'adapter'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.after.families.ner.examples).toBe(2);
    expect(typeof summary.after.nerMicroF1).toBe('number');
    const metrics = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.phase === 'train')).toHaveLength(3);
    expect((await readFile(path.join(out, 'samples.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(3);
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('<svg');
  });
});
