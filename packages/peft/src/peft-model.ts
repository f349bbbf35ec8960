import { Embedding, Linear, Module } from '@tessera/nn';
import { clone, tidy, type Generator } from '@tessera/tensor';
import { loraConfig, loraScaling, rankAndAlpha, type LoraConfig } from './lora-config.js';
import { LoraEmbedding } from './lora-embedding.js';
import { LinearBase, LoraLinear, type BaseLinear } from './lora-linear.js';
import { findTargets, plainKind, type LayerKind } from './target-modules.js';

/** A module with a parent, for swapping it in place. */
function parentOf(model: Module, path: string): { parent: Module; name: string } {
  const dot = path.lastIndexOf('.');
  return { parent: dot < 0 ? model : model.getModule(path.slice(0, dot)), name: path.slice(dot + 1) };
}

/** What `printTrainableParameters` prints, as numbers. */
export interface TrainableCount {
  trainable: number;
  total: number;
  percent: number;
}

/**
 * A model with named LoRA adapters (PEFT's PeftModel / LoraModel): adds adapters to targeted
 * layers, freezes the rest, switches, disables, deletes, merges and unmerges them.
 */
export class PeftModel<M extends Module = Module> {
  readonly model: M;
  readonly configs = new Map<string, LoraConfig>();
  activeAdapter = 'default';
  /** Full copies trained beside the adapters (`modules_to_save`): path -> original module. */
  readonly #saved = new Map<string, Module>();

  constructor(model: M, config: Partial<LoraConfig> | LoraConfig, adapterName = 'default', opts: { generator?: Generator } = {}) {
    this.model = model;
    this.addAdapter(adapterName, config, opts);
  }

  /** LoRA layers of the model with their paths. */
  loraLayers(): [string, LoraLinear | LoraEmbedding][] {
    return this.model.namedModules().filter(([, m]) => m instanceof LoraLinear || m instanceof LoraEmbedding) as [string, LoraLinear | LoraEmbedding][];
  }

  /** Adds an adapter to every targeted layer (wrapping plain layers on first use). */
  addAdapter(name: string, config: Partial<LoraConfig> | LoraConfig, opts: { generator?: Generator } = {}): void {
    if (this.configs.has(name)) throw new Error(`PeftModel: an adapter named "${name}" exists; delete it or pick another name`);
    const cfg = loraConfig(config);
    for (const [path, m] of findTargets(this.model, cfg, kindOf)) {
      const { r, alpha } = rankAndAlpha(cfg, path);
      const scaling = loraScaling(r, alpha, cfg.useRslora);
      let layer: LoraLinear | LoraEmbedding;
      if (m instanceof LoraLinear || m instanceof LoraEmbedding) layer = m;
      else {
        const { parent, name: childName } = parentOf(this.model, path);
        layer = m instanceof Embedding ? new LoraEmbedding(m) : new LoraLinear(isBase(m) ? m : LinearBase.from(m as Linear));
        parent.replaceChild(childName, layer);
      }
      if (layer instanceof LoraEmbedding) layer.addAdapter(name, { r, alpha, scaling, generator: opts.generator });
      else layer.addAdapter(name, { r, alpha, scaling, dropout: cfg.loraDropout, useDora: cfg.useDora, init: cfg.initLoraWeights, generator: opts.generator });
    }
    for (const path of cfg.modulesToSave) this.#saveModule(path);
    this.configs.set(name, cfg);
    // As in PEFT, adding an adapter does not activate it (the first one excepted).
    this.setAdapter(this.configs.size === 1 ? name : this.activeAdapter);
  }

  /** Makes one adapter the active one and sets which parameters train: its adapters, its bias mode, modules to save. */
  setAdapter(name: string): void {
    const cfg = this.configs.get(name);
    if (!cfg) throw new Error(`PeftModel: no adapter named "${name}" (adapters: ${[...this.configs.keys()].join(', ')})`);
    this.activeAdapter = name;
    for (const [, layer] of this.loraLayers()) layer.active = layer.settings.has(name) ? [name] : [];
    this.model.requiresGrad_(false);
    for (const [path, p] of this.model.namedParameters()) {
      const adapterParam = new RegExp(`\\.(lora_A|lora_B|lora_magnitude_vector)\\.${escape(name)}\\.weight$|\\.(lora_embedding_A|lora_embedding_B)\\.${escape(name)}$`).test(path);
      const isBias = path.endsWith('.bias');
      const inLoraLayer = this.loraLayers().some(([lp]) => path === `${lp}.bias`);
      const saved = cfg.modulesToSave.some((m) => path.startsWith(`${m}.`) || path.includes(`.${m}.`));
      if (adapterParam || saved || (isBias && (cfg.bias === 'all' || (cfg.bias === 'lora_only' && inLoraLayer)))) p.requiresGrad = true;
    }
  }

  /** Runs `fn` with every adapter off: the base model's behaviour (PEFT's `disable_adapter()` context). */
  withAdaptersDisabled<T>(fn: () => T): T {
    const layers = this.loraLayers();
    for (const [, l] of layers) l.disabled = true;
    try {
      return fn();
    } finally {
      for (const [, l] of layers) l.disabled = false;
    }
  }

  /** Deletes an adapter from every layer. */
  deleteAdapter(name: string): void {
    if (!this.configs.has(name)) throw new Error(`PeftModel: no adapter named "${name}"`);
    for (const [, layer] of this.loraLayers()) layer.deleteAdapter(name);
    this.configs.delete(name);
    if (this.activeAdapter === name) {
      const next = this.configs.keys().next().value;
      if (next !== undefined) this.setAdapter(next);
    }
  }

  /** Folds the active (or given) adapters into the base weights. */
  merge(names: string[] = [this.activeAdapter]): void {
    for (const [, layer] of this.loraLayers()) layer.merge(names.filter((n) => layer.settings.has(n)));
  }

  /** Undoes `merge`. */
  unmerge(): void {
    for (const [, layer] of this.loraLayers()) layer.unmerge();
  }

  /** Merges the active adapter and returns the plain model with LoRA layers replaced by their bases (PEFT's merge_and_unload). */
  mergeAndUnload(): M {
    this.merge();
    for (const [path, layer] of this.loraLayers()) {
      const { parent, name } = parentOf(this.model, path);
      const base: Module = layer instanceof LoraEmbedding ? layer.base : plainLinear(layer.base);
      for (const n of [...layer.settings.keys()]) {
        layer.merged = layer.merged.filter((x) => x !== n);
        if (layer instanceof LoraLinear) layer.mergedNorms.get(n)?.dispose();
        layer.deleteAdapter(n);
      }
      parent.replaceChild(name, base);
    }
    this.configs.clear();
    return this.model;
  }

  /** Trainable and total parameter counts. */
  trainableParameters(): TrainableCount {
    const total = this.model.numParameters();
    const trainable = this.model.numParameters({ trainableOnly: true });
    return { trainable, total, percent: (100 * trainable) / total };
  }

  /** PEFT's `print_trainable_parameters` line. */
  printTrainableParameters(log: (line: string) => void = console.log): string {
    const { trainable, total, percent } = this.trainableParameters();
    const line = `trainable params: ${trainable.toLocaleString('en-US')} || all params: ${total.toLocaleString('en-US')} || trainable%: ${percent.toFixed(4)}`;
    log(line);
    return line;
  }

  /** Keeps a trainable copy of a module (PEFT's ModulesToSaveWrapper, simplified: the copy replaces it in place). */
  #saveModule(path: string): void {
    if (this.#saved.has(path)) return;
    const matches = this.model.namedModules().filter(([p]) => p === path || p.endsWith(`.${path}`));
    if (matches.length === 0) throw new Error(`PeftModel: modules_to_save "${path}" matches no module`);
    for (const [p, m] of matches) {
      this.#saved.set(p, m);
      // A private copy, so training it never changes weights it may share (tied embeddings).
      tidy(() => {
        for (const [, t] of m.namedParameters()) t.assign(clone(t));
      });
    }
  }
}

/** A LoRA wrapper counts as the kind of its base, so a second adapter finds the same layers. */
function kindOf(m: Module): LayerKind {
  if (m instanceof LoraLinear) return 'linear';
  if (m instanceof LoraEmbedding) return 'embedding';
  if (isBase(m)) return 'linear'; // a quantised (NF4) base counts as a linear layer
  return plainKind(m);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isBase(m: Module): m is BaseLinear {
  return typeof (m as unknown as Partial<BaseLinear>).denseWeight === "function";
}

function plainLinear(base: BaseLinear): Module {
  if (base instanceof LinearBase) return new Linear(base.inFeatures, base.outFeatures, { weight: base.weight, biasTensor: base.bias });
  return base;
}

