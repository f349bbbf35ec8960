import { Embedding, Linear, type Module } from '@tessera/nn';
import type { LoraConfig } from './lora-config.js';

/** Names that are output heads, which `all-linear` leaves alone (as PEFT does). */
const OUTPUT_HEADS = ['lm_head', 'classifier', 'score', 'cls', 'qa_outputs'];

/** What kind of adaptable layer a module is (wrappers report their base's kind). */
export type LayerKind = 'linear' | 'embedding' | null;

/** Whether a layer of `kind` at `path` is targeted by the config (PEFT's matching rules). */
export function isTargeted(cfg: LoraConfig, path: string, kind: LayerKind): boolean {
  if (kind === null || path === '') return false;
  const tm = cfg.targetModules;
  if (tm === 'all-linear') return kind === 'linear' && !OUTPUT_HEADS.includes(path.split('.').pop()!);
  if (tm instanceof RegExp) return new RegExp(`^(?:${tm.source})$`, tm.flags.replace('g', '')).test(path);
  return tm.some((name) => path === name || path.endsWith(`.${name}`));
}

/** The targeted layers of a model with their paths, or a clear error naming the layers it has. */
export function findTargets(model: Module, cfg: LoraConfig, kindOf: (m: Module) => LayerKind): [string, Module][] {
  const found = model.namedModules().filter(([path, m]) => isTargeted(cfg, path, kindOf(m)));
  if (found.length === 0) {
    const names = model
      .namedModules()
      .filter(([, m]) => kindOf(m) !== null)
      .map(([p]) => p.split('.').pop()!);
    const tm = cfg.targetModules;
    const wanted = tm instanceof RegExp ? `/${tm.source}/` : Array.isArray(tm) ? JSON.stringify(tm) : tm;
    throw new Error(`LoRA: target_modules ${wanted} matched no Linear or Embedding in the model; its layers are named: ${[...new Set(names)].join(', ') || 'none'}`);
  }
  return found;
}

/** The kind of a plain layer. */
export function plainKind(m: Module): LayerKind {
  return m instanceof Linear ? 'linear' : m instanceof Embedding ? 'embedding' : null;
}
