import { createHash } from 'node:crypto';
import type { TokenizedExample } from '@tessera/datasets';
import { flagOf, type RunConfig } from './config/run-config.js';

/**
 * The run settings that fix a run's math and data order. A resumed run must keep them, or it would
 * continue a different run than the checkpoint's (a new --steps moves the schedule's horizon, a new
 * --batch or --seed the data order). Settings that only change what is watched or saved
 * (evalEvery, saveEvery, patience, backend, onBadLine) may change on --resume, except evalEvery
 * between 0 and > 0: validation holds examples out of training, which the data hash sees.
 */
export const RESUME_KEYS = ['method', 'r', 'alpha', 'dropout', 'targets', 'lr', 'schedule', 'warmup', 'steps', 'batch', 'gradAccumulation', 'maxLength', 'packing', 'trainOnInputs', 'seed', 'maxGradNorm', 'weightDecay'] as const;

/** What a checkpoint records of its run: the RESUME_KEYS (steps as resolved) and the tokenised data's size and hash. */
export type ResumeSettings = Record<(typeof RESUME_KEYS)[number], unknown> & { data: { train: number; validation: number; sha256: string } };

/** A hash of tokenised examples (ids and labels, in order): equal data, equal hash. */
function examplesHash(parts: ReadonlyArray<readonly TokenizedExample[]>): string {
  const h = createHash('sha256');
  for (const rows of parts) {
    h.update(`${rows.length};`);
    for (const r of rows) {
      h.update(new Uint8Array(Int32Array.from(r.inputIds).buffer));
      h.update(new Uint8Array(Int32Array.from(r.labels).buffer));
      h.update(`${r.inputIds.length};`);
    }
  }
  return h.digest('hex');
}

/** The settings a checkpoint saves; `steps` is the resolved count (from --steps or from epochs). */
export function resumeSettings(cfg: RunConfig, steps: number, train: readonly TokenizedExample[], validation: readonly TokenizedExample[]): ResumeSettings {
  const out = Object.fromEntries(RESUME_KEYS.map((k) => [k, k === 'steps' ? steps : cfg[k]])) as unknown as ResumeSettings;
  out.data = { train: train.length, validation: validation.length, sha256: examplesHash([train, validation]) };
  return out;
}

// Keys with no command-line flag: only a config file sets them.
const CONFIG_ONLY = new Set<string>(['maxGradNorm', 'weightDecay']);
const asFlagValue = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));
const restore = (key: string, v: unknown): string => (CONFIG_ONLY.has(key) ? `set ${key}: ${JSON.stringify(v)} in the --config file` : `pass ${flagOf(key)} ${asFlagValue(v)}`);
// LoRA's settings do nothing for method "full" (every weight trains), so they may change there.
const LORA_ONLY = new Set<string>(['r', 'alpha', 'dropout', 'targets']);
// The order of --targets changes nothing: which modules get LoRA is a set.
const comparable = (key: string, v: unknown): string => JSON.stringify(key === 'targets' && Array.isArray(v) ? [...(v as string[])].sort() : v);

/**
 * Throws unless `now` matches the checkpoint's saved settings, naming the first differing key, both
 * values and the flag that restores the checkpoint's value. A checkpoint without saved settings
 * (written by an older tessera-train) is accepted as before.
 */
export function checkResumeSettings(dir: string, saved: Record<string, unknown> | undefined, now: ResumeSettings): void {
  if (!saved) return;
  for (const key of RESUME_KEYS) {
    if (!(key in saved) || comparable(key, saved[key]) === comparable(key, now[key])) continue;
    if (LORA_ONLY.has(key) && saved.method === 'full' && now.method === 'full') continue;
    const why = key === 'steps' ? ' (the schedule\'s horizon; without --steps it is computed from --epochs and the data)' : '';
    throw new Error(`--resume ${dir}: the checkpoint was trained with ${key} ${JSON.stringify(saved[key])}, this run has ${JSON.stringify(now[key])}${why}; a resumed run keeps the settings that fix its math and data order: ${restore(key, saved[key])}, or start a new run without --resume`);
  }
  const d = saved.data as ResumeSettings['data'] | undefined;
  if (d && d.sha256 !== now.data.sha256) {
    if ((d.validation === 0) !== (now.data.validation === 0) && d.train + d.validation === now.data.train + now.data.validation) {
      throw new Error(`--resume ${dir}: the checkpoint was trained ${d.validation === 0 ? 'on every example (validation off, --eval-every 0)' : `with ${d.validation} examples held out for validation (--eval-every > 0)`}, this run ${now.data.validation === 0 ? 'holds none out (--eval-every 0)' : `holds ${now.data.validation} out (--eval-every > 0)`}, so it would train on other examples; resume with --eval-every ${d.validation === 0 ? '0' : 'N > 0'}, or start a new run without --resume`);
    }
    throw new Error(`--resume ${dir}: the checkpoint was trained on other data (${d.train} training + ${d.validation} validation examples, sha256 ${d.sha256.slice(0, 12)}), this run's --data gives ${now.data.train} + ${now.data.validation} (sha256 ${now.data.sha256.slice(0, 12)}); resume with the same --data files and tokenizer, or start a new run without --resume`);
  }
}
