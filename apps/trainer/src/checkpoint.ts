import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rawFromTensor, tensorFromRaw, type RawTensor } from '@tessera/models';
import type { AdamW } from '@tessera/optim';
import { adapterFiles, loadAdapterFiles, type PeftModel } from '@tessera/peft';
import { readSafetensors, serializeSafetensors } from '@tessera/safetensors';
import type { Tensor } from '@tessera/tensor';
import type { LoopCursor, StepRecord } from './train-loop.js';

/** What a checkpoint holds besides the adapter and optimizer tensors. */
export interface CheckpointState {
  cursor: LoopCursor;
  optimizer: { step: number; lrs: number[] };
  records: StepRecord[];
}

// Optimizer tensors are stored as "<parameter>::<slot>" (e.g. "...lora_A.default.weight::m").
const SEP = '::';

/**
 * Writes adapter, optimizer state, schedule step and data cursor into `dir` atomically: everything
 * goes into a sibling temporary folder that is renamed into place, so a crash leaves the previous
 * checkpoint or the new one, never half of one; a failed write removes its temporary folder. The data order is a function of (seed, epoch), and
 * training uses no dropout randomness by default, so the cursor is the whole RNG state.
 */
export async function saveCheckpoint(dir: string, peft: PeftModel, optimizer: AdamW, state: CheckpointState): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await mkdir(tmp, { recursive: true });
    const adapter = await adapterFiles(peft);
    await writeFile(path.join(tmp, 'adapter_config.json'), adapter.config);
    await writeFile(path.join(tmp, 'adapter_model.safetensors'), adapter.weights);
    const s = optimizer.stateDict();
    const raw = new Map<string, RawTensor>();
    for (const [name, entries] of s.state) for (const [slot, t] of Object.entries(entries)) raw.set(`${name}${SEP}${slot}`, await rawFromTensor(t));
    await writeFile(path.join(tmp, 'optimizer.safetensors'), serializeSafetensors(raw as never));
    // trainer_state.json goes last: a folder that has it is complete.
    await writeFile(path.join(tmp, 'trainer_state.json'), `${JSON.stringify({ ...state, optimizer: { step: s.step, lrs: s.lrs } }, null, 1)}\n`);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`saveCheckpoint ${dir}: ${(err as Error).message}; the previous checkpoint (if any) is unchanged`);
  }
  // Two renames, never a delete before the new folder is in place: a crash between them leaves
  // `<dir>.previous`, which loadCheckpoint falls back to.
  const previous = `${dir}.previous`;
  await rm(previous, { recursive: true, force: true });
  if (existsSync(dir)) await rename(dir, previous);
  await rename(tmp, dir);
  await rm(previous, { recursive: true, force: true });
}

/** Restores a checkpoint written by `saveCheckpoint` into the adapter and optimizer; returns the cursor and records. */
export async function loadCheckpoint(dir: string, peft: PeftModel, optimizer: AdamW): Promise<CheckpointState> {
  // A crash between saveCheckpoint's two renames leaves only the previous complete checkpoint.
  if (!existsSync(path.join(dir, 'trainer_state.json')) && existsSync(path.join(`${dir}.previous`, 'trainer_state.json'))) dir = `${dir}.previous`;
  const read = async (f: string): Promise<Buffer> => {
    try {
      return await readFile(path.join(dir, f));
    } catch (err) {
      throw new Error(`--resume ${dir}: cannot read ${f} (${(err as NodeJS.ErrnoException).code}); a checkpoint folder holds adapter_config.json, adapter_model.safetensors, optimizer.safetensors and trainer_state.json`);
    }
  };
  loadAdapterFiles(peft, { config: (await read('adapter_config.json')).toString('utf8'), weights: await read('adapter_model.safetensors') });
  const state = JSON.parse((await read('trainer_state.json')).toString('utf8')) as CheckpointState;
  const file = readSafetensors(await read('optimizer.safetensors'));
  const tensors = new Map<string, Record<string, Tensor>>();
  for (const [key, t] of file.tensors) {
    const [name, slot] = key.split(SEP) as [string, string];
    const entry = tensors.get(name) ?? {};
    entry[slot] = tensorFromRaw(key, t as unknown as RawTensor);
    tensors.set(name, entry);
  }
  optimizer.loadStateDict({ step: state.optimizer.step, lrs: state.optimizer.lrs, state: tensors });
  for (const entry of tensors.values()) for (const t of Object.values(entry)) t.dispose();
  return state;
}
