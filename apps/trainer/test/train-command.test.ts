import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { registerBackend } from '@tessera/tensor';
import { trainCommand } from '../src/commands/train.js';
import { savedSteps } from './checkpoint-copies.js';
import { tinyBaseAndData } from './tiny-base.js';

// Every checkpoint the command saves is also copied aside as <dir>-step<N> (checkpoint-copies.ts).
vi.mock('../src/checkpoint.js', async (original) => (await import('./checkpoint-copies.js')).copyingEverySave(await original()));

beforeAll(() => {
  registerBackend(createCpuBackend());
});

// savedSteps lives as long as the module: each test sees only its own saves.
beforeEach(() => {
  savedSteps.length = 0;
});

/**
 * Runs `fn` as if on a terminal (stdout and stderr are TTYs, so the command draws its cli-progress
 * bar on stderr) and returns what the bar drew; log lines are silenced.
 */
async function onTerminal<T>(fn: () => Promise<T>): Promise<{ result: T; drawn: string }> {
  const was = [process.stdout.isTTY, process.stderr.isTTY];
  let drawn = '';
  process.stdout.isTTY = true;
  process.stderr.isTTY = true;
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((drawn += chunk.toString()), true));
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return { result: await fn(), drawn };
  } finally {
    write.mockRestore();
    log.mockRestore();
    [process.stdout.isTTY, process.stderr.isTTY] = was as [true, true];
  }
}

describe('tessera-train train', () => {
  it('trains from a JSONL file with a YAML config and flags, checkpointing every N steps (each save resumes to the same losses, validation and best) and writing the adapter', async () => {
    const { dir, base, data } = await tinyBaseAndData('tessera-traincmd-', { seed: 0, perFamily: 4 });
    const config = path.join(dir, 'run.yaml');
    await writeFile(config, 'method: dora\nr: 4\nalpha: 8\ntargets: [q_proj, v_proj]\nlr: 0.005\nbatch: 2\nsave_every: 2\neval-every: 2\n');
    const out = path.join(dir, 'run');
    const r = await trainCommand({ model: base, data, out, configFile: config, overrides: { steps: 4 }, quiet: true });
    expect(r.losses).toHaveLength(4);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect((await readdir(path.join(out, 'checkpoint'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    expect(JSON.parse(await readFile(path.join(out, 'adapter', 'adapter_config.json'), 'utf8')).use_dora).toBe(true);
    const metrics = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.phase === 'validation').map((m) => m.step)).toEqual([2, 4]);
    const state = JSON.parse(await readFile(path.join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
    expect(state.cursor.step).toBe(4);
    // --save-every 2 saved at steps 2 and 4, and the last step was not saved twice.
    expect(savedSteps).toEqual([2, 4]);
    const at2 = JSON.parse(await readFile(path.join(out, 'checkpoint-step2', 'trainer_state.json'), 'utf8'));
    expect(at2.cursor.step).toBe(2);
    expect(at2.records.map((x: { loss: number }) => x.loss)).toEqual(r.losses.slice(0, 2));
    expect(at2.validation).toEqual({ best: r.validation[0]![1], sinceBest: 0, history: [r.validation[0]] });
    // The command's own resume path from the step-2 save: the same steps 3-4, validation and best as the uninterrupted run.
    const { result: resumed, drawn } = await onTerminal(() => trainCommand({ model: base, data, out: path.join(dir, 'resumed'), configFile: config, resume: path.join(out, 'checkpoint-step2'), overrides: { steps: 4 } }));
    // The progress bar starts at the resumed step (not at 0) and ends at the last.
    const drawnSteps = [...drawn.matchAll(/train \[[^\]]*\] (\d+)\/4 /g)].map((m) => Number(m[1]));
    expect(drawnSteps[0]).toBe(2);
    expect(drawnSteps.at(-1)).toBe(4);
    expect(drawn).toMatch(/input tok\/s/);
    expect(resumed.losses).toEqual(r.losses.slice(2));
    expect(resumed.validation).toEqual(r.validation);
    const summary = JSON.parse(await readFile(path.join(dir, 'resumed', 'summary.json'), 'utf8'));
    const whole = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.bestValidationLoss).toBe(whole.bestValidationLoss);
    // Resumed into another folder, it has the best adapter too (copied from the checkpoint's run when the best is step 2's).
    expect(await readFile(path.join(dir, 'resumed', 'best-adapter', 'adapter_model.safetensors'))).toEqual(await readFile(path.join(out, 'best-adapter', 'adapter_model.safetensors')));
    expect(await readFile(path.join(dir, 'resumed', 'adapter', 'adapter_model.safetensors'))).toEqual(await readFile(path.join(out, 'adapter', 'adapter_model.safetensors')));
  });

  it('refuses a bad config value naming the file, the key and the allowed values', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-traincfg-'));
    const config = path.join(dir, 'run.yaml');
    await writeFile(config, 'schedule: exponential\n');
    await expect(trainCommand({ model: dir, data: dir, out: dir, configFile: config, overrides: {}, quiet: true })).rejects.toThrow(`${config}: "schedule" is "exponential"; expected one of "cosine", "linear", "constant"`);
  });
});
