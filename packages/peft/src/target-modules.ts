import { Embedding, Linear, type Module } from '@tessera/nn';
import type { LoraConfig } from './lora-config.js';

/** Names that are output heads, which `all-linear` leaves alone (as PEFT does). */
const OUTPUT_HEADS = ['lm_head', 'classifier', 'score', 'cls', 'qa_outputs'];

/** What kind of adaptable layer a module is (wrappers report their base's kind). */
export type LayerKind = 'linear' | 'embedding' | null;

/** A module name list matches a path that equals a name or ends with `.name` (PEFT's rule). */
function matchesName(names: readonly string[], path: string): boolean {
  return names.some((name) => path === name || path.endsWith(`.${name}`));
}

/**
 * Whether the layer at `path` sits in one of the layers `layersToTransform` keeps: the number after
 * the last `<pattern>.` segment (any segment when there is no pattern), PEFT's rule.
 */
function inTransformedLayer(cfg: LoraConfig, path: string): boolean {
  const keep = cfg.layersToTransform;
  if (!keep) return true;
  const patterns = cfg.layersPattern ?? ['[^.]*'];
  for (const pattern of patterns) {
    const m = new RegExp(`^.*\\.${pattern}\\.(\\d+)\\.`).exec(path);
    if (m) return keep.includes(Number(m[1]));
  }
  return false;
}

/** Whether a layer of `kind` at `path` is targeted by the config (PEFT's matching rules, exclusions and layer indices included). */
export function isTargeted(cfg: LoraConfig, path: string, kind: LayerKind): boolean {
  if (kind === null || path === '') return false;
  const ex = cfg.excludeModules;
  if (ex && (ex instanceof RegExp ? new RegExp(`^(?:${ex.source})$`).test(path) : matchesName(ex, path))) return false;
  const tm = cfg.targetModules;
  // A regex is matched alone; a list (and all-linear, which PEFT turns into a list) honours layersToTransform,
  // except for a path listed in full.
  if (tm instanceof RegExp) return new RegExp(`^(?:${tm.source})$`).test(path);
  if (tm === 'all-linear') return kind === 'linear' && !OUTPUT_HEADS.includes(path.split('.').pop()!) && inTransformedLayer(cfg, path);
  return tm.includes(path) || (matchesName(tm, path) && inTransformedLayer(cfg, path));
}

/**
 * The targeted layers of a model with their paths, or a clear error naming the layers it has.
 * Nothing inside an adaptable layer is a target: a LoRA layer's own lora_A/lora_B Linears stay
 * plain when a second adapter targets `all-linear`.
 */
export function findTargets(model: Module, cfg: LoraConfig, kindOf: (m: Module) => LayerKind): [string, Module][] {
  const layers = model.namedModules().filter(([path, m]) => path !== '' && kindOf(m) !== null);
  const outer = layers.filter(([path]) => !layers.some(([p]) => path.startsWith(`${p}.`)));
  const found = outer.filter(([path, m]) => isTargeted(cfg, path, kindOf(m)));
  if (found.length === 0) {
    const names = outer.map(([p]) => p.split('.').pop()!);
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
