import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdamW } from '@tessera/optim';
import type { PeftModel } from '@tessera/peft';
import { checkpointFiles, restoreCheckpointFiles, type CheckpointState } from './checkpoint-files.js';

export type { CheckpointState } from './checkpoint-files.js';

/**
 * Writes adapter, optimizer state, schedule step and data cursor into `dir` atomically: everything
 * goes into a sibling temporary folder that is renamed into place, so a crash leaves the previous
 * checkpoint or the new one, never half of one; a failed write removes its temporary folder.
 */
export async function saveCheckpoint(dir: string, peft: PeftModel, optimizer: AdamW, state: CheckpointState): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await mkdir(tmp, { recursive: true });
    // checkpointFiles lists trainer_state.json last: a folder that has it is complete.
    for (const [name, bytes] of await checkpointFiles(peft, optimizer, state)) await writeFile(path.join(tmp, name), bytes);
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
  return restoreCheckpointFiles(peft, optimizer, async (f) => {
    try {
      return await readFile(path.join(dir, f));
    } catch (err) {
      throw new Error(`--resume ${dir}: cannot read ${f} (${(err as NodeJS.ErrnoException).code}); a checkpoint folder holds adapter_config.json, adapter_model.safetensors, optimizer.safetensors and trainer_state.json`);
    }
  });
}
