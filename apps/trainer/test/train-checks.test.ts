import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { splitArray } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { registerBackend } from '@tessera/tensor';
import { splitValidation, trainCommand } from '../src/commands/train.js';
import { tinyBaseAndData, trainingLines } from './tiny-base.js';

let dir: string;
let base: string;
let data: string;
const lines = trainingLines(5, 4);
const common = { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'], lr: 5e-3, warmup: 0, batch: 2, maxLength: 96, seed: 1 };

beforeAll(async () => {
  registerBackend(createCpuBackend());
  ({ dir, base, data } = await tinyBaseAndData('tessera-checks-', { seed: 5, perFamily: 4 }));
});

afterEach(() => {
  vi.restoreAllMocks();
});

const summaryOf = async (out: string) => JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));

describe('train: input checks', () => {
  it('a record that cannot become a conversation is reported as file:line, and --on-bad-line skip skips it', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    const noAnswer = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });
    const badSpeaker = JSON.stringify({ conversations: [{ from: 'narrator', value: 'x' }, { from: 'gpt', value: 'y' }] });
    await writeFile(bad, [lines[0], lines[1], noAnswer, badSpeaker, ...lines.slice(2)].join('\n') + '\n');
    await expect(trainCommand({ model: base, data: bad, out: path.join(dir, 'bad-stop'), overrides: { ...common, steps: 1 }, quiet: true })).rejects.toThrow(`${bad}:3: messages: no assistant message, so nothing would be trained`);
    const out = path.join(dir, 'bad-skip');
    const r = await trainCommand({ model: base, data: bad, out, overrides: { ...common, steps: 1, onBadLine: 'skip' }, quiet: true });
    expect(r.losses).toHaveLength(1);
    expect((await summaryOf(out)).dataCounts).toMatchObject({ lines: lines.length + 2, badLines: 2, examples: lines.length });
  });

  it('a record the chat template cannot render is reported as file:line, and --on-bad-line skip skips it', async () => {
    // A template that renders only the first two messages drops a later answer, which tokenize refuses.
    const strict = path.join(dir, 'strict-base');
    await cp(base, strict, { recursive: true });
    const config = JSON.parse(await readFile(path.join(strict, 'tokenizer_config.json'), 'utf8'));
    config.chat_template = "{% for message in messages %}{% if loop.index <= 2 %}{{ '<|' + message['role'] + '|> ' + message['content'] + '<|end|>\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";
    await writeFile(path.join(strict, 'tokenizer_config.json'), JSON.stringify(config));
    const twoTurns = JSON.stringify({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }, { role: 'assistant', content: 'the second answer' }] });
    const file = path.join(dir, 'two-turns.jsonl');
    await writeFile(file, [lines[0], twoTurns, ...lines.slice(1)].join('\n') + '\n');
    await expect(trainCommand({ model: strict, data: file, out: path.join(dir, 'tpl-stop'), overrides: { ...common, steps: 1 }, quiet: true })).rejects.toThrow(`${file}:2: tokenizeChat: the chat template dropped or rewrote assistant message(s)`);
    const out = path.join(dir, 'tpl-skip');
    await trainCommand({ model: strict, data: file, out, overrides: { ...common, steps: 1, onBadLine: 'skip' }, quiet: true });
    expect((await summaryOf(out)).dataCounts).toMatchObject({ lines: lines.length + 1, badLines: 1 });
  });

  it('command-line values are validated like the config file, with the same errors', async () => {
    const run = (overrides: object) => trainCommand({ model: base, data, out: path.join(dir, 'never'), overrides, quiet: true });
    // Errors name the flag the user typed, not the config key.
    await expect(run({ batch: 0 })).rejects.toThrow('command line: --batch is 0; expected an integer ≥ 1');
    await expect(run({ gradAccumulation: 0 })).rejects.toThrow('command line: --grad-accumulation is 0; expected an integer ≥ 1');
    await expect(run({ lr: -1 })).rejects.toThrow('command line: --lr is -1; expected a number ≥ 0');
    await expect(run({ dropout: 2 })).rejects.toThrow('command line: --dropout is 2; expected a number ≥ 0 and ≤ 1');
    await expect(run({ maxLength: 0 })).rejects.toThrow('command line: --max-length is 0; expected an integer ≥ 1');
    await expect(run({ warmup: -3 })).rejects.toThrow('command line: --warmup is -3; expected an integer ≥ 0');
  });

  it('reports truncated and dropped examples', async () => {
    const logs: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void logs.push(s));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = path.join(dir, 'short');
    await trainCommand({ model: base, data, out, overrides: { ...common, steps: 1, maxLength: 24 } });
    vi.restoreAllMocks();
    const counts = (await summaryOf(out)).dataCounts;
    expect(counts.truncated + counts.dropped).toBeGreaterThan(0);
    expect(logs).toContain(`data: ${lines.length} examples: ${counts.truncated} truncated, ${counts.dropped} dropped (over maxLength 24)`);
  });

  it('holds out 5% chosen by the seed (splitArray) when validation runs, and nothing when it does not', async () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const a = splitValidation(items, 0);
    expect(a).toEqual(splitArray(items, { validation: 5, train: 95 }, { seed: 0 }));
    expect(a.validation).not.toEqual([0, 1, 2, 3, 4]);
    expect(splitValidation(items, 1).validation).not.toEqual(a.validation);
    expect([...a.validation, ...a.train].sort((x, y) => x - y)).toEqual(items);
    expect(splitValidation([7], 0)).toEqual({ validation: [], train: [7] });
    // Without validation every example trains (as transformers/TRL do with evaluation off).
    await trainCommand({ model: base, data, out: path.join(dir, 'no-eval'), overrides: { ...common, steps: 1 }, quiet: true });
    expect((await summaryOf(path.join(dir, 'no-eval'))).dataCounts).toMatchObject({ examples: lines.length, train: lines.length, validation: 0 });
    const withEval = await trainCommand({ model: base, data, out: path.join(dir, 'eval'), overrides: { ...common, steps: 1, evalEvery: 1 }, quiet: true });
    expect(withEval.validation).toHaveLength(1);
    expect((await summaryOf(path.join(dir, 'eval'))).dataCounts).toMatchObject({ examples: lines.length, train: lines.length - 1, validation: 1 });
  });

  it('--resume refuses settings that change the run\'s math or data order, naming the key, both values and the fix', async () => {
    const out = path.join(dir, 'first');
    await trainCommand({ model: base, data, out, overrides: { ...common, steps: 4, saveEvery: 2 }, quiet: true });
    const ckpt = path.join(out, 'checkpoint');
    const resume = (overrides: object, d = data) => trainCommand({ model: base, data: d, out: path.join(dir, 'again'), resume: ckpt, overrides: { ...common, ...overrides }, quiet: true });
    await expect(resume({ steps: 4, lr: 0.01 })).rejects.toThrow(`--resume ${ckpt}: the checkpoint was trained with lr 0.005, this run has 0.01; a resumed run keeps the settings that fix its math and data order: pass --lr 0.005, or start a new run without --resume`);
    await expect(resume({ steps: 4, batch: 3 })).rejects.toThrow('the checkpoint was trained with batch 2, this run has 3');
    await expect(resume({ steps: 4, targets: ['q_proj'] })).rejects.toThrow('the checkpoint was trained with targets ["q_proj","v_proj"], this run has ["q_proj"]');
    // Validation on a run trained without it would hold examples out of what it trained on.
    await expect(resume({ steps: 4, evalEvery: 2 })).rejects.toThrow(`--resume ${ckpt}: the checkpoint was trained on every example (validation off, --eval-every 0), this run holds 1 out (--eval-every > 0), so it would train on other examples; resume with --eval-every 0`);
    await expect(resume({ steps: 4, gradAccumulation: 2 })).rejects.toThrow('pass --grad-accumulation 1');
    const cfg = path.join(dir, 'decay.yaml');
    await writeFile(cfg, 'weight_decay: 0.1\n');
    await expect(trainCommand({ model: base, data, out: path.join(dir, 'again'), resume: ckpt, configFile: cfg, overrides: { ...common, steps: 4 }, quiet: true })).rejects.toThrow('the checkpoint was trained with weightDecay 0, this run has 0.1; a resumed run keeps the settings that fix its math and data order: set weightDecay: 0 in the --config file');
    // Without --steps the count comes from epochs: a different schedule horizon.
    await expect(resume({})).rejects.toThrow(/the checkpoint was trained with steps 4, this run has 10 \(the schedule's horizon; .*\); .*: pass --steps 4,/);
    const other = path.join(dir, 'other.jsonl');
    await writeFile(other, lines.slice(1).join('\n') + '\n');
    await expect(resume({ steps: 4 }, other)).rejects.toThrow(`--resume ${ckpt}: the checkpoint was trained on other data (${lines.length} training + 0 validation examples`);
    // What is only watched or saved may change, and the order of --targets is no change.
    const r = await resume({ steps: 4, saveEvery: 1, targets: ['v_proj', 'q_proj'] });
    expect(r.losses).toHaveLength(0);
    expect(r.validation).toHaveLength(0);
  });
});
