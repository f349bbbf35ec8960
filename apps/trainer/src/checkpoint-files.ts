import { rawFromTensor, tensorFromRaw, type RawTensor } from '@tessera/models';
import type { AdamW } from '@tessera/optim';
import { adapterFiles, loadAdapterFiles, type PeftModel } from '@tessera/peft';
import { readSafetensors, serializeSafetensors } from '@tessera/safetensors';
import type { Tensor } from '@tessera/tensor';
import type { LoopCursor, StepRecord } from './train-loop.js';

/** Validation so far: what early stopping and the best-adapter choice continue from after --resume. */
export interface ValidationState {
  /** The lowest validation loss so far (null before the first validation). */
  best: number | null;
  /** Validations since `best` improved (the patience counter). */
  sinceBest: number;
  /** Every [step, loss] validation so far. */
  history: Array<[number, number]>;
}

/** What a checkpoint holds besides the model (or adapter) and optimizer tensors. */
export interface CheckpointState {
  cursor: LoopCursor;
  /** Every step record so far (a resumed run's records continue these). */
  records: StepRecord[];
  validation?: ValidationState;
  /** The settings that fix the run's math and data order; `--resume` refuses a run whose settings differ. */
  run?: Record<string, unknown>;
  /** The LoRA dropout generator's position, so a resumed run with dropout draws the same masks. */
  dropoutGenerator?: { seed: number; counter: number };
}

/** The files of an adapter checkpoint, in write order: trainer_state.json last, so a store that has it holds a complete checkpoint. */
export const CHECKPOINT_FILES = ['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json'] as const;

/** The files a checkpoint adds to the adapter (or to a full model's Hugging Face folder), in write order. */
export const TRAINER_FILES = ['optimizer.safetensors', 'trainer_state.json'] as const;

// Optimizer tensors are stored as "<parameter>::<slot>" (e.g. "...lora_A.default.weight::m").
const SEP = '::';

/**
 * optimizer.safetensors (AdamW's moments by parameter name) and trainer_state.json (the state plus
 * AdamW's step and learning rates), in write order. The data order is a function of (seed, epoch) and
 * the dropout generator's position is saved, so the cursor and that position are the whole RNG state.
 */
export async function trainerFiles(optimizer: AdamW, state: CheckpointState): Promise<Map<(typeof TRAINER_FILES)[number], Uint8Array>> {
  const s = optimizer.stateDict();
  const raw = new Map<string, RawTensor>();
  for (const [name, entries] of s.state) for (const [slot, t] of Object.entries(entries)) raw.set(`${name}${SEP}${slot}`, await rawFromTensor(t));
  return new Map([
    ['optimizer.safetensors', serializeSafetensors(raw as never)],
    ['trainer_state.json', new TextEncoder().encode(`${JSON.stringify({ ...state, optimizer: { step: s.step, lrs: s.lrs } }, null, 1)}\n`)],
  ]);
}

/**
 * An adapter checkpoint's files as bytes, storage-neutral (the CLI writes them to a folder, the
 * studio to the browser's Origin Private File System).
 */
export async function checkpointFiles(peft: PeftModel, optimizer: AdamW, state: CheckpointState): Promise<Map<(typeof CHECKPOINT_FILES)[number], Uint8Array>> {
  const adapter = await adapterFiles(peft);
  return new Map<(typeof CHECKPOINT_FILES)[number], Uint8Array>([['adapter_config.json', new TextEncoder().encode(adapter.config)], ['adapter_model.safetensors', adapter.weights], ...(await trainerFiles(optimizer, state))]);
}

/** Reads trainer_state.json's state (without touching any tensor), e.g. to check a run's settings before loading. */
export function parseTrainerState(bytes: Uint8Array): CheckpointState {
  return JSON.parse(new TextDecoder().decode(bytes)) as CheckpointState;
}

/** Restores AdamW's moments, step and learning rates from trainer files (read by name through `read`); returns the state. */
export async function restoreTrainerFiles(optimizer: AdamW, read: (name: (typeof TRAINER_FILES)[number]) => Promise<Uint8Array>): Promise<CheckpointState> {
  const saved = parseTrainerState(await read('trainer_state.json')) as CheckpointState & { optimizer: { step: number; lrs: number[] } };
  const file = readSafetensors(await read('optimizer.safetensors'));
  const tensors = new Map<string, Record<string, Tensor>>();
  for (const [key, t] of file.tensors) {
    const [name, slot] = key.split(SEP) as [string, string];
    const entry = tensors.get(name) ?? {};
    entry[slot] = tensorFromRaw(key, t as unknown as RawTensor);
    tensors.set(name, entry);
  }
  optimizer.loadStateDict({ step: saved.optimizer.step, lrs: saved.optimizer.lrs, state: tensors });
  for (const entry of tensors.values()) for (const t of Object.values(entry)) t.dispose();
  const { optimizer: _adam, ...state } = saved;
  return state;
}

/** Restores adapter checkpoint files (read by name through `read`) into the adapter and optimizer; returns the state. */
export async function restoreCheckpointFiles(peft: PeftModel, optimizer: AdamW, read: (name: (typeof CHECKPOINT_FILES)[number]) => Promise<Uint8Array>): Promise<CheckpointState> {
  const decoder = new TextDecoder();
  loadAdapterFiles(peft, { config: decoder.decode(await read('adapter_config.json')), weights: await read('adapter_model.safetensors') });
  return restoreTrainerFiles(optimizer, read);
}
