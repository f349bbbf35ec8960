import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pretrain, PRETRAIN_DEFAULTS, type PretrainOptions } from '../src/commands/pretrain.js';
import { instructionTasks } from '../src/data/instruction-tasks.js';

/** The tiny base the trainer tests fine-tune: 2 pretraining steps of a 1-layer, 32-wide Llama with a 400-token vocabulary (seconds on the CPU). */
export const TINY_BASE = { hiddenSize: 32, layers: 1, heads: 2, vocabSize: 400, seqLen: 32, batch: 4, steps: 2, paragraphs: 300 } as const;

/** Values that replace TINY_BASE's (hiddenSize: 64) or add to them (init, arithMix). */
export type TinyBaseChanges = Partial<Omit<PretrainOptions, 'out' | 'quiet'>>;

/** Pretrains the tiny base, quietly, into `out`. */
export function pretrainTinyBase(out: string, changes: TinyBaseChanges = {}): ReturnType<typeof pretrain> {
  // quiet goes last so the options keep the key order the tests wrote by hand (pretrain-log.json records them).
  return pretrain({ ...PRETRAIN_DEFAULTS, out, ...TINY_BASE, ...changes, quiet: true });
}

/** The training split of instructionTasks(seed, perFamily, 0) as JSONL lines of { messages }. */
export function trainingLines(seed: number, perFamily: number): string[] {
  return instructionTasks(seed, perFamily, 0).train.map((e) => JSON.stringify({ messages: e.messages }));
}

/** A fresh temporary folder named from `prefix`, with the tiny base in `base` and trainingLines(seed, perFamily) in `data` (train.jsonl). */
export async function tinyBaseAndData(prefix: string, lines: { seed: number; perFamily: number }, changes: TinyBaseChanges = {}): Promise<{ dir: string; base: string; data: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const base = path.join(dir, 'base');
  await pretrainTinyBase(base, changes);
  const data = path.join(dir, 'train.jsonl');
  await writeFile(data, trainingLines(lines.seed, lines.perFamily).join('\n') + '\n');
  return { dir, base, data };
}
