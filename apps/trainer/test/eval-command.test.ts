import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ChatExampleTokenizer } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { PeftModel } from '@tessera/peft';
import { saveAdapter } from '@tessera/peft/node';
import { Generator, registerBackend } from '@tessera/tensor';
import { evalCommand } from '../src/commands/eval.js';
import { instructionTasks } from '../src/data/instruction-tasks.js';
import { evaluate } from '../src/evaluate.js';

const MODEL = fileURLToPath(new URL('../assets/default-model', import.meta.url));

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('tessera-train eval', () => {
  it('scores exact match per family, loss/perplexity and the NER reports, writes JSON, and an adapter changes the result', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-eval-'));
    const test = instructionTasks(0, 0, 2).test;
    const lines = test.map((e) => JSON.stringify({ messages: e.messages, family: e.family, ...(e.words ? { words: e.words, tags: e.tags } : {}) }));
    // An Alpaca record without a family field lands in "all".
    lines.push(JSON.stringify({ instruction: 'Say yes.', input: '', output: 'yes' }));
    const data = path.join(dir, 'test.jsonl');
    await writeFile(data, `${lines.join('\n')}\n`);
    const out = path.join(dir, 'eval.json');
    const r = await evalCommand({ model: MODEL, data, out, maxLength: 128, maxNewTokens: 12, onBadLine: 'stop', quiet: true });
    expect(Object.keys(r.families)).toEqual([...new Set(test.map((e) => e.family)), 'all']);
    const n = test.length + 1;
    expect(r.overall.examples).toBe(n);
    for (const m of Object.values(r.families)) {
      expect(m.exactMatch).toBeGreaterThanOrEqual(0);
      expect(m.exactMatch).toBeLessThanOrEqual(1);
      expect(Number.isFinite(m.loss) && m.loss > 0).toBe(true);
      expect(m.perplexity).toBeCloseTo(Math.exp(m.loss), 6);
    }
    expect(r.ner).toBeDefined();
    expect(r.ner!.tokenReport.labels.length).toBeGreaterThan(1);
    const json = JSON.parse(await readFile(out, 'utf8'));
    expect(json.examples).toBe(n);
    expect(json.families.ner.examples).toBe(test.filter((e) => e.family === 'ner').length);
    expect(Object.keys(json.ner.tokenReport.perClass)).toContain('O');
    expect(json.predictions).toHaveLength(n);

    // Exact match is really compared: answers replaced by the model's own greedy predictions all match.
    const own = path.join(dir, 'own.jsonl');
    await writeFile(own, r.predictions.map((p, i) => JSON.stringify({ task: 'own', messages: [test[i] ? test[i]!.messages[0] : { role: 'user', content: 'Say yes.' }, { role: 'assistant', content: p.predicted || 'x' }] })).join('\n'));
    // Not quiet, off a terminal: the command's output includes the evaluation's progress line.
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void printed.push(s));
    const self = await evalCommand({ model: MODEL, data: own, out: path.join(dir, 'own.json'), maxLength: 128, maxNewTokens: 12, onBadLine: 'stop' }).finally(() => log.mockRestore());
    expect(printed).toContain(`eval ${n}/${n} examples | ETA 0 s`);
    const nonEmpty = r.predictions.filter((p) => p.predicted !== '').length;
    expect(self.families.own!.exactMatch).toBeCloseTo(nonEmpty / n, 9);

    const { model } = await loadModel(MODEL);
    const peft = new PeftModel(model, { r: 4, loraAlpha: 64, targetModules: ['q_proj', 'v_proj'], initLoraWeights: false }, 'default', { generator: new Generator(3) });
    await saveAdapter(peft, path.join(dir, 'adapter'));
    const withAdapter = await evalCommand({ model: MODEL, adapter: path.join(dir, 'adapter'), data, out: path.join(dir, 'a.json'), maxLength: 128, maxNewTokens: 12, onBadLine: 'stop', quiet: true });
    expect(withAdapter.overall.loss).not.toBeCloseTo(r.overall.loss, 3);
  });

  it('evaluate reports progress after each batch of examples', async () => {
    const { model, tokenizer } = await loadModel(MODEL);
    const seen: Array<[number, number]> = [];
    const examples = instructionTasks(0, 0, 1).test;
    await evaluate(model, tokenizer!, new ChatExampleTokenizer(tokenizer!, { maxLength: 128 }), examples, { batchSize: 2, maxNewTokens: 2, onProgress: (done, total) => void seen.push([done, total]) });
    expect(examples).toHaveLength(5);
    expect(seen).toEqual([[2, 5], [4, 5], [5, 5]]);
  });

  it('reports a bad line as file:line, or skips it with --on-bad-line skip', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-evalbad-'));
    const data = path.join(dir, 'd.jsonl');
    await writeFile(data, `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\nnot json\n${JSON.stringify({ messages: [{ role: 'user', content: 'only a question' }] })}\n`);
    await expect(evalCommand({ model: MODEL, data, out: path.join(dir, 'e.json'), maxLength: 128, maxNewTokens: 4, onBadLine: 'stop', quiet: true })).rejects.toThrow(`${data}:2:`);
    const r = await evalCommand({ model: MODEL, data, out: path.join(dir, 'e.json'), maxLength: 128, maxNewTokens: 4, onBadLine: 'skip', quiet: true });
    expect(r.overall.examples).toBe(1);
    expect(JSON.parse(await readFile(path.join(dir, 'e.json'), 'utf8')).skippedLines.map((b: { where: string }) => b.where)).toEqual([`${data}:2`, `${data}:3`]);
  });
});
