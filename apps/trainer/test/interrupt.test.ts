import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel } from '@tessera/peft';
import { registerBackend } from '@tessera/tensor';
import { loadCheckpoint } from '../src/checkpoint.js';
import { trainCommand } from '../src/commands/train.js';
import { instructionTasks } from '../src/data/instruction-tasks.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const MODEL = path.join(APP, 'assets/default-model');
const CHECKPOINT_FILES = ['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json'];
const STEPS = 40;
const FLAGS = { method: 'lora', r: 4, alpha: 8, targets: ['q_proj', 'v_proj'], lr: 3e-3, warmup: 2, steps: STEPS, batch: 2, maxLength: 64, seed: 5 } as const;
const argv = ['--method', 'lora', '--r', '4', '--alpha', '8', '--targets', 'q_proj,v_proj', '--lr', '0.003', '--warmup', '2', '--steps', String(STEPS), '--batch', '2', '--max-length', '64', '--seed', '5'];

beforeAll(() => {
  registerBackend(createCpuBackend());
});

/** `tessera-train train` as a child process, as a user runs it (tsx on the sources). */
function spawnTrain(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> } {
  const child = spawn(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', path.join(APP, 'src/cli.ts'), 'train', ...args], { cwd: APP, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output }))) };
}

async function trainLosses(file: string): Promise<number[]> {
  const text = existsSync(file) ? await readFile(file, 'utf8') : '';
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((m) => m.phase === 'train').map((m) => m.loss);
}

async function waitForSteps(file: string, n: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if ((await trainLosses(file)).length >= n) return;
    if (child.exitCode !== null) throw new Error(`train exited (${child.exitCode}) before ${n} steps`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function dataFile(dir: string): Promise<string> {
  const data = path.join(dir, 'train.jsonl');
  await writeFile(data, instructionTasks(1, 6, 0).train.map((e) => JSON.stringify({ messages: e.messages })).join('\n') + '\n');
  return data;
}

describe('Ctrl-C and crashes while training', () => {
  it('SIGINT mid-run saves a complete checkpoint, exits 130, and --resume reaches the losses of an uninterrupted run', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-sigint-'));
    const data = await dataFile(dir);
    const out = path.join(dir, 'run');
    const { child, exit } = spawnTrain(['--model', MODEL, '--data', data, '--out', out, ...argv]);
    await waitForSteps(path.join(out, 'metrics.jsonl'), 3, child);
    child.kill('SIGINT');
    const { code, output } = await exit;
    expect(code, output).toBe(130);
    expect(output).toContain('Ctrl-C: finishing this step');
    const first = await trainLosses(path.join(out, 'metrics.jsonl'));
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(first.length).toBeLessThan(STEPS);
    const ckpt = path.join(out, 'checkpoint');
    expect((await readdir(ckpt)).sort()).toEqual(CHECKPOINT_FILES);
    expect((await readdir(out)).filter((f) => f.includes('.tmp-') || f.endsWith('.previous'))).toEqual([]);
    expect(JSON.parse(await readFile(path.join(ckpt, 'trainer_state.json'), 'utf8')).cursor.step).toBe(first.length);
    expect(existsSync(path.join(out, 'adapter'))).toBe(false);

    const rest = await trainCommand({ model: MODEL, data, out: path.join(dir, 'resumed'), resume: ckpt, overrides: { ...FLAGS, targets: [...FLAGS.targets] }, quiet: true });
    const whole = await trainCommand({ model: MODEL, data, out: path.join(dir, 'whole'), overrides: { ...FLAGS, targets: [...FLAGS.targets] }, quiet: true });
    expect(whole.losses).toHaveLength(STEPS);
    expect([...first, ...rest.losses]).toEqual(whole.losses);
  });

  it('kill -9 during frequent saves never leaves a half-written checkpoint', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-kill9-'));
    const data = await dataFile(dir);
    const out = path.join(dir, 'run');
    const { child, exit } = spawnTrain(['--model', MODEL, '--data', data, '--out', out, ...argv, '--save-every', '1']);
    await waitForSteps(path.join(out, 'metrics.jsonl'), 4, child);
    child.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    // Whatever moment the kill hit, the checkpoint that loadCheckpoint finds is complete and loads.
    const ckpt = path.join(out, 'checkpoint');
    const found = existsSync(path.join(ckpt, 'trainer_state.json')) ? ckpt : `${ckpt}.previous`;
    expect((await readdir(found)).sort()).toEqual(CHECKPOINT_FILES);
    const { model } = await loadModel(MODEL);
    const peft = new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] });
    const state = await loadCheckpoint(ckpt, peft, new AdamW(model.trainableParameters(), { lr: 1e-3 }));
    expect(state.cursor.step).toBeGreaterThanOrEqual(3);
  });
});
