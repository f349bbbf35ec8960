import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel } from '@tessera/peft';
import { registerBackend } from '@tessera/tensor';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint.js';

const MODEL = path.join(fileURLToPath(new URL('..', import.meta.url)), 'assets/default-model');
const CHECKPOINT_FILES = ['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json'];

// The file system as saveCheckpoint sees it, with two test hooks: `afterEach` runs after every rename
// and rm (to check what a crash at that moment would leave), `failOpen` makes opening a file fail.
const fsHooks = vi.hoisted(() => ({ afterEach: null as null | ((op: string) => void), failOpen: null as null | ((file: string) => boolean), synced: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const watched = <A extends unknown[], R>(op: string, f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const r = await f(...a);
    fsHooks.afterEach?.(`${op} ${String(a[0])}`);
    return r;
  };
  const open = async (...a: Parameters<typeof real.open>) => {
    if (fsHooks.failOpen?.(String(a[0]))) throw new Error('ENOSPC: no space left on device');
    const handle = await real.open(...a);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => (fsHooks.synced.push(String(a[0])), sync());
    return handle;
  };
  const mocked = { ...real, rename: watched('rename', real.rename), rm: watched('rm', real.rm), open };
  return { ...mocked, default: mocked };
});

beforeAll(() => {
  registerBackend(createCpuBackend());
});

async function lora(): Promise<{ peft: PeftModel; optimizer: AdamW }> {
  const { model } = await loadModel(MODEL);
  const peft = new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'], initLoraWeights: false });
  return { peft, optimizer: new AdamW(model.trainableParameters(), { lr: 1e-3 }) };
}

const state = (step: number) => ({ cursor: { step, epoch: 0, index: 2 * step }, records: [] });
// writeFileAtomic (@tessera/safetensors/node) writes each file as .<name>.<pid>.<random>.tmp, then renames it.
const finalName = (file: string): string => path.basename(file).replace(/^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/, '$1');
const loadable = (ckpt: string): boolean => existsSync(path.join(ckpt, 'trainer_state.json')) || existsSync(path.join(`${ckpt}.previous`, 'trainer_state.json'));

describe('checkpoint swap', () => {
  it('never has a moment without a loadable checkpoint, also when a crash left only checkpoint.previous; files and folders are fsynced', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-swap-'));
    const { peft, optimizer } = await lora();
    const ckpt = path.join(dir, 'checkpoint');
    await saveCheckpoint(ckpt, peft, optimizer, state(1));
    expect([...new Set(fsHooks.synced.filter((f) => f.startsWith(`${ckpt}.tmp-`)).map(finalName))].sort()).toEqual([...CHECKPOINT_FILES, `checkpoint.tmp-${process.pid}`].sort());
    expect(fsHooks.synced).toContain(dir);
    // A crash between the two renames of a save: only checkpoint.previous is left.
    await rename(ckpt, `${ckpt}.previous`);
    expect((await loadCheckpoint(ckpt, peft, optimizer)).cursor.step).toBe(1);
    const ops: string[] = [];
    fsHooks.afterEach = (op) => {
      ops.push(op);
      expect(loadable(ckpt), `no loadable checkpoint after ${ops.join(', ')}`).toBe(true);
    };
    try {
      await saveCheckpoint(ckpt, peft, optimizer, state(2));
      await saveCheckpoint(ckpt, peft, optimizer, state(3));
    } finally {
      fsHooks.afterEach = null;
    }
    expect(ops.some((op) => op.startsWith('rename'))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['checkpoint']);
    expect((await loadCheckpoint(ckpt, peft, optimizer)).cursor.step).toBe(3);
  });

  it('a write that fails mid-checkpoint (the third file) removes its temporary folder and leaves the previous checkpoint byte-identical', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-failwrite-'));
    const { peft, optimizer } = await lora();
    const ckpt = path.join(dir, 'checkpoint');
    await saveCheckpoint(ckpt, peft, optimizer, state(7));
    const before = await Promise.all(CHECKPOINT_FILES.map((f) => readFile(path.join(ckpt, f))));
    // The adapter's two files are already in the temporary folder when the optimizer's cannot be written.
    const written: string[] = [];
    fsHooks.failOpen = (file) => {
      // Files in the temporary folder; the folder itself is opened too, to fsync it.
      if (!path.dirname(file).startsWith(`${ckpt}.tmp-`)) return false;
      written.push(finalName(file));
      return finalName(file) === 'optimizer.safetensors';
    };
    try {
      await expect(saveCheckpoint(ckpt, peft, optimizer, state(8))).rejects.toThrow(`saveCheckpoint ${ckpt}: ENOSPC: no space left on device; the previous checkpoint (if any) is unchanged`);
    } finally {
      fsHooks.failOpen = null;
    }
    expect(written).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors']);
    expect((await readdir(dir)).sort()).toEqual(['checkpoint']);
    const after = await Promise.all(CHECKPOINT_FILES.map((f) => readFile(path.join(ckpt, f))));
    expect(after).toEqual(before);
  });
});
