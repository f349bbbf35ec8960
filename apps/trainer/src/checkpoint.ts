import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { readModelFolder, saveModel, tensorFromRaw, type LlamaForCausalLM } from '@tessera/models';
import type { AdamW } from '@tessera/optim';
import { PeftModel } from '@tessera/peft';
import { writeFileAtomic } from '@tessera/safetensors/node';
import { isTensor } from '@tessera/tensor';
import { checkpointFiles, parseTrainerState, restoreCheckpointFiles, restoreTrainerFiles, trainerFiles, type CheckpointState } from './checkpoint-files.js';

export type { CheckpointState, ValidationState } from './checkpoint-files.js';

/** What a checkpoint saves: a PEFT adapter, or (method "full") the whole model. */
export type Trained = PeftModel | LlamaForCausalLM;

/**
 * fsyncs a folder so renames in it survive a crash; some platforms (Windows) cannot, which is fine.
 * writeFileAtomic does this for the files it writes; the checkpoint folder's own renames need it too.
 */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

const complete = (dir: string): boolean => existsSync(path.join(dir, 'trainer_state.json'));

/**
 * Writes the adapter (or, for a full fine-tune, the model as a Hugging Face folder via saveModel),
 * optimizer state, schedule step and data cursor into `dir` atomically: everything goes into a
 * sibling temporary folder, each file fsynced, that is renamed into place, so a crash leaves the
 * previous checkpoint or the new one, never half of one; a failed write removes its temporary folder.
 */
export async function saveCheckpoint(dir: string, trained: Trained, optimizer: AdamW, state: CheckpointState): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await mkdir(tmp, { recursive: true });
    // trainer_state.json is written last: a folder that has it is complete.
    const files = trained instanceof PeftModel ? await checkpointFiles(trained, optimizer, state) : (await saveModel(trained, tmp), await trainerFiles(optimizer, state));
    // Each file fsynced (and its folder), so the rename below never publishes unwritten data.
    for (const [name, bytes] of files) await writeFileAtomic(path.join(tmp, name), (h) => h.writeFile(bytes));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`saveCheckpoint ${dir}: ${(err as Error).message}; the previous checkpoint (if any) is unchanged`);
  }
  // At every moment one complete checkpoint stays where loadCheckpoint looks (`dir`, else
  // `<dir>.previous`): `.previous` is only removed while `dir` is complete, and `dir` only moves
  // aside (or, if a crash left it incomplete, is removed) once `.previous` or nothing is the fallback.
  const previous = `${dir}.previous`;
  if (complete(dir)) {
    await rm(previous, { recursive: true, force: true });
    await rename(dir, previous);
  } else await rm(dir, { recursive: true, force: true });
  await syncFolder(path.dirname(dir));
  await rename(tmp, dir);
  await syncFolder(path.dirname(dir));
  await rm(previous, { recursive: true, force: true });
}

/** The folder loadCheckpoint reads: `dir`, or `<dir>.previous` when a crash during a save left `dir` missing or incomplete. */
export function checkpointFolder(dir: string): string {
  return !complete(dir) && complete(`${dir}.previous`) ? `${dir}.previous` : dir;
}

function reader(dir: string): (f: string) => Promise<Uint8Array> {
  return async (f) => {
    try {
      return await readFile(path.join(dir, f));
    } catch (err) {
      throw new Error(`--resume ${dir}: cannot read ${f} (${(err as NodeJS.ErrnoException).code}); a checkpoint folder holds the adapter (adapter_config.json, adapter_model.safetensors) or, for method "full", the model (config.json, model.safetensors), plus optimizer.safetensors and trainer_state.json`);
    }
  };
}

/** Reads a checkpoint's trainer_state.json (no tensors), e.g. to check the run's settings before loading anything. */
export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  return parseTrainerState(await reader(checkpointFolder(dir))('trainer_state.json'));
}

/** Copies a full-model checkpoint's weights (a Hugging Face folder, sharded or not) into `model`'s parameters. */
async function restoreModelWeights(dir: string, model: LlamaForCausalLM): Promise<void> {
  const files = await readModelFolder(dir);
  try {
    for (const [name, target] of model.stateDict()) {
      const entry = files.weights.get(name);
      if (!entry) throw new Error(`--resume ${dir}: the checkpoint has no weight "${name}"; it was saved from another model`);
      const value = await entry.read();
      const t = isTensor(value) ? value : tensorFromRaw(name, value, { dtype: target.dtype, device: target.device });
      // assign shares t's storage, so t itself is ours to dispose (as loadModel does).
      target.assign(t);
      t.dispose();
    }
  } finally {
    await files.close();
  }
}

/**
 * Restores a checkpoint written by `saveCheckpoint` into the adapter (or whole model) and optimizer;
 * returns the state. A crash during a save may leave only `<dir>.previous`, which is read instead.
 */
export async function loadCheckpoint(dir: string, trained: Trained, optimizer: AdamW): Promise<CheckpointState> {
  const found = checkpointFolder(dir);
  const isFull = existsSync(path.join(found, 'config.json'));
  const isAdapter = existsSync(path.join(found, 'adapter_config.json'));
  if (trained instanceof PeftModel ? isFull && !isAdapter : isAdapter && !isFull) {
    throw new Error(`--resume ${dir}: the checkpoint holds ${isFull ? 'a whole model (method "full")' : 'an adapter'} but this run trains ${trained instanceof PeftModel ? 'an adapter' : 'the whole model (method "full")'}; resume with the method the checkpoint was made with`);
  }
  if (trained instanceof PeftModel) return restoreCheckpointFiles(trained, optimizer, reader(found));
  await restoreModelWeights(found, trained);
  return restoreTrainerFiles(optimizer, reader(found));
}
