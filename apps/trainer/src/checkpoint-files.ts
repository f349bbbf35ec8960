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

/** The files of a checkpoint, in write order: trainer_state.json last, so a store that has it holds a complete checkpoint. */
export const CHECKPOINT_FILES = ['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json'] as const;

// Optimizer tensors are stored as "<parameter>::<slot>" (e.g. "...lora_A.default.weight::m").
const SEP = '::';

/**
 * A checkpoint's files as bytes, storage-neutral (the CLI writes them to a folder, the studio to
 * the browser's Origin Private File System). The data order is a function of (seed, epoch), and
 * training uses no dropout randomness by default, so the cursor is the whole RNG state.
 */
export async function checkpointFiles(peft: PeftModel, optimizer: AdamW, state: CheckpointState): Promise<Map<(typeof CHECKPOINT_FILES)[number], Uint8Array>> {
  const encoder = new TextEncoder();
  const adapter = await adapterFiles(peft);
  const s = optimizer.stateDict();
  const raw = new Map<string, RawTensor>();
  for (const [name, entries] of s.state) for (const [slot, t] of Object.entries(entries)) raw.set(`${name}${SEP}${slot}`, await rawFromTensor(t));
  return new Map([
    ['adapter_config.json', encoder.encode(adapter.config)],
    ['adapter_model.safetensors', adapter.weights],
    ['optimizer.safetensors', serializeSafetensors(raw as never)],
    ['trainer_state.json', encoder.encode(`${JSON.stringify({ ...state, optimizer: { step: s.step, lrs: s.lrs } }, null, 1)}\n`)],
  ]);
}

/** Restores checkpoint files (read by name through `read`) into the adapter and optimizer; returns the cursor and records. */
export async function restoreCheckpointFiles(peft: PeftModel, optimizer: AdamW, read: (name: (typeof CHECKPOINT_FILES)[number]) => Promise<Uint8Array>): Promise<CheckpointState> {
  const decoder = new TextDecoder();
  loadAdapterFiles(peft, { config: decoder.decode(await read('adapter_config.json')), weights: await read('adapter_model.safetensors') });
  const state = JSON.parse(decoder.decode(await read('trainer_state.json'))) as CheckpointState;
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
