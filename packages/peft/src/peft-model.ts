import { Embedding, Linear, Module } from '@tessera/nn';
import { clone, keep, withGradMode, type Generator, type Tensor } from '@tessera/tensor';
import { adapterParamOf, checkAdapterName, inSavedModule } from './adapter-names.js';
import { loraConfig, loraScaling, rankAndAlpha, type LoraConfig } from './lora-config.js';
import { LoraEmbedding } from './lora-embedding.js';
import { LinearBase, LoraLinear, type BaseLinear } from './lora-linear.js';
import { TiedEmbeddingCopy } from './tied-embedding.js';
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
 * A module in modules_to_save. Tessera trains the module's own tensors (nothing else reads them,
 * so that is PEFT's private copy) and keeps the original values: put back while adapters are
 * disabled or another adapter is active, as PEFT runs its original module then. A token embedding
 * a tied head reads is split by TiedEmbeddingCopy so the head keeps the original, unless the config
 * asks to keep the tie (ensureWeightTying): then the head reads the trained table, as the embedding.
 */
interface SavedModule {
  owner: string;
  params: Tensor[];
  originals: Tensor[];
  /** The trained values while the originals are in place; null while the trained values are. */
  trainedAside: Tensor[] | null;
  /** The TiedEmbeddingCopy put in place of a tied embedding, with the embedding it replaced. */
  tied: { path: string; embedding: Embedding } | null;
}

/**
 * A model with named LoRA adapters (PEFT's PeftModel / LoraModel): adds adapters to targeted
 * layers, freezes the rest, switches, disables, deletes, merges and unmerges them.
 */
export class PeftModel<M extends Module = Module> {
  readonly model: M;
  readonly configs = new Map<string, LoraConfig>();
  activeAdapter = 'default';
  /** modules_to_save by module path. */
  readonly #saved = new Map<string, SavedModule>();
  /** The module each LoRA layer replaced, put back when its last adapter is deleted. */
  readonly #originals = new Map<string, Module>();

  constructor(model: M, config: Partial<LoraConfig> | LoraConfig, adapterName = 'default', opts: { generator?: Generator } = {}) {
    this.model = model;
    this.addAdapter(adapterName, config, opts);
  }

  /** LoRA layers of the model with their paths. */
  loraLayers(): [string, LoraLinear | LoraEmbedding][] {
    return this.model.namedModules().filter(([, m]) => m instanceof LoraLinear || m instanceof LoraEmbedding) as [string, LoraLinear | LoraEmbedding][];
  }

  /** Adds an adapter to every targeted layer (wrapping plain layers on first use); everything is checked before the model changes. */
  addAdapter(name: string, config: Partial<LoraConfig> | LoraConfig, opts: { generator?: Generator } = {}): void {
    checkAdapterName(name);
    if (this.configs.has(name)) throw new Error(`PeftModel: an adapter named "${name}" exists; delete it or pick another name`);
    const cfg = loraConfig(config);
    const targets = findTargets(this.model, cfg, kindOf);
    if (cfg.useDora) {
      const emb = targets.find(([, m]) => kindOf(m) === 'embedding');
      if (emb) throw new Error(`PeftModel: useDora is set and target_modules matches the embedding "${emb[0]}"; Tessera implements DoRA for linear layers only. Leave embeddings out of target_modules or turn useDora off`);
    }
    const saved = this.#savedModulePaths(name, cfg, targets.map(([p]) => p));
    for (const [path, m] of targets) {
      const { r, alpha } = rankAndAlpha(cfg, path);
      const scaling = loraScaling(r, alpha, cfg.useRslora);
      let layer: LoraLinear | LoraEmbedding;
      if (m instanceof LoraLinear || m instanceof LoraEmbedding) layer = m;
      else {
        const { parent, name: childName } = parentOf(this.model, path);
        layer = m instanceof Embedding ? new LoraEmbedding(m) : new LoraLinear(isBase(m) ? m : LinearBase.from(m as Linear));
        parent.replaceChild(childName, layer);
        this.#originals.set(path, m);
      }
      if (layer instanceof LoraEmbedding) layer.addAdapter(name, { r, scaling, generator: opts.generator });
      else layer.addAdapter(name, { r, scaling, dropout: cfg.loraDropout, useDora: cfg.useDora, init: cfg.initLoraWeights, generator: opts.generator });
    }
    for (const path of saved) {
      const m = this.model.getModule(path);
      const params = m.namedParameters().map(([, t]) => t);
      const originals = withGradMode(false, () => params.map((t) => keep(clone(t))));
      let tied: SavedModule['tied'] = null;
      if (tiedToHead(this.model, m) && !cfg.ensureWeightTying) {
        const { parent, name: childName } = parentOf(this.model, path);
        parent.replaceChild(childName, new TiedEmbeddingCopy(m as Embedding, originals[0]!));
        tied = { path, embedding: m as Embedding };
      }
      this.#saved.set(path, { owner: name, params, originals, trainedAside: null, tied });
    }
    this.configs.set(name, cfg);
    // As in PEFT, adding an adapter does not activate it (the first one excepted).
    this.setAdapter(this.configs.size === 1 ? name : this.activeAdapter);
  }

  /**
   * The module paths an adapter's modules_to_save names (the outermost module each name matches), with
   * a clear error for a name that matches nothing or a module another adapter already saves.
   */
  #savedModulePaths(name: string, cfg: LoraConfig, targets: string[]): string[] {
    const out: string[] = [];
    const modules = this.model.namedModules();
    for (const wanted of cfg.modulesToSave) {
      const matches = modules.filter(([p]) => p !== '' && inSavedModule(p, wanted)).filter(([p], _, all) => !all.some(([q]) => p.startsWith(`${q}.`)));
      if (matches.length === 0) throw new Error(`PeftModel: modules_to_save "${wanted}" matches no module`);
      for (const [p] of matches) {
        const other = this.#saved.get(p);
        if (other) throw new Error(`PeftModel: modules_to_save "${wanted}" (${p}) is already saved by adapter "${other.owner}"; Tessera keeps one trained copy per module, so delete that adapter first`);
        const adapted = this.loraLayers().find(([q]) => q === p || q.startsWith(`${p}.`))?.[0] ?? targets.find((q) => q === p || q.startsWith(`${p}.`) || p.startsWith(`${q}.`));
        if (adapted !== undefined) throw new Error(`PeftModel: modules_to_save "${wanted}" names ${p}, which holds the LoRA layer ${adapted}; a module is either adapted or saved in full, not both`);
        out.push(p);
      }
    }
    return out;
  }

  /** Makes one adapter the active one and sets which parameters train: its adapters, its bias mode, its modules to save. */
  setAdapter(name: string): void {
    const cfg = this.configs.get(name);
    if (!cfg) throw new Error(`PeftModel: no adapter named "${name}" (adapters: ${[...this.configs.keys()].join(', ')})`);
    this.activeAdapter = name;
    const layers = this.loraLayers();
    for (const [, layer] of layers) layer.active = layer.settings.has(name) ? [name] : [];
    // PEFT: a saved module runs its trained copy for the adapter that saved it, the original for any other.
    for (const s of this.#saved.values()) this.#show(s, s.owner === name ? 'trained' : 'original');
    const loraPaths = new Set(layers.map(([p]) => p));
    this.model.requiresGrad_(false);
    for (const [path, p] of this.model.namedParameters()) {
      const adapter = adapterParamOf(path);
      if (adapter) {
        p.requiresGrad = adapter.adapter === name;
        continue;
      }
      const saved = cfg.modulesToSave.some((m) => inSavedModule(path, m));
      const bias = path.endsWith('.bias') && (cfg.bias === 'all' || (cfg.bias === 'lora_only' && loraPaths.has(path.slice(0, -'.bias'.length))));
      if (saved || bias) p.requiresGrad = true;
    }
  }

  /** Puts a saved module's trained or original values in place. */
  #show(s: SavedModule, which: 'trained' | 'original'): void {
    if ((s.trainedAside === null) === (which === 'trained')) return;
    withGradMode(false, () => {
      if (which === 'original') {
        s.trainedAside = s.params.map((t) => keep(clone(t)));
        s.params.forEach((t, i) => {
          const original = clone(s.originals[i]!);
          t.assign(original);
          original.dispose();
        });
      } else {
        s.params.forEach((t, i) => t.assign(s.trainedAside![i]!));
        for (const t of s.trainedAside!) t.dispose();
        s.trainedAside = null;
      }
    });
  }

  /** Forgets a saved module: its original values stay in place, a tied embedding gets its module back. */
  #unsave(path: string, s: SavedModule): void {
    this.#show(s, 'original');
    if (s.tied) {
      const { parent, name } = parentOf(this.model, s.tied.path);
      parent.replaceChild(name, s.tied.embedding);
    }
    for (const t of s.originals) t.dispose();
    this.#saved.delete(path);
  }

  /** Runs `fn` with every adapter off: the base model's behaviour, saved modules back to their original values (PEFT's `disable_adapter()` context). */
  withAdaptersDisabled<T>(fn: () => T): T {
    const layers = this.loraLayers();
    const shown = [...this.#saved.values()].filter((s) => s.trainedAside === null);
    for (const [, l] of layers) l.disabled = true;
    for (const s of shown) this.#show(s, 'original');
    try {
      return fn();
    } finally {
      for (const [, l] of layers) l.disabled = false;
      for (const s of shown) this.#show(s, 'trained');
    }
  }

  /** Deletes an adapter from every layer; a layer left with no adapter becomes the module it replaced, a module it saved gets its original values back. */
  deleteAdapter(name: string): void {
    if (!this.configs.has(name)) throw new Error(`PeftModel: no adapter named "${name}"`);
    for (const [path, layer] of this.loraLayers()) {
      layer.deleteAdapter(name);
      const original = this.#originals.get(path);
      if (layer.settings.size === 0 && original) {
        const { parent, name: childName } = parentOf(this.model, path);
        parent.replaceChild(childName, original);
        this.#originals.delete(path);
      }
    }
    for (const [path, s] of [...this.#saved]) if (s.owner === name) this.#unsave(path, s);
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

  /**
   * Merges the active adapter and returns the plain model with LoRA layers replaced by their bases
   * (PEFT's merge_and_unload); saved modules keep the values the active adapter runs with (a tied
   * embedding stays split: the head keeps the original, as after PEFT's merge_and_unload).
   */
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
    for (const s of this.#saved.values()) {
      for (const t of s.trainedAside ?? []) t.dispose();
      if (!s.tied) for (const t of s.originals) t.dispose(); // a tied head still reads its originals
    }
    this.#saved.clear();
    this.#originals.clear();
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
}

/**
 * Whether a module is the token embedding a tied output head reads (Hugging Face's
 * tie_word_embeddings, which Tessera's models keep in `config.tieWordEmbeddings`): an embedding
 * with one row per vocabulary entry.
 */
function tiedToHead(model: Module, m: Module): boolean {
  const config = (model as unknown as { config?: { tieWordEmbeddings?: boolean; vocabSize?: number } }).config;
  const emb = m instanceof LoraEmbedding ? m.base : m;
  return config?.tieWordEmbeddings === true && emb instanceof Embedding && emb.numEmbeddings === config.vocabSize;
}

/** A LoRA wrapper counts as the kind of its base, so a second adapter finds the same layers. */
function kindOf(m: Module): LayerKind {
  if (m instanceof LoraLinear) return 'linear';
  if (m instanceof LoraEmbedding) return 'embedding';
  if (isBase(m)) return 'linear'; // a quantised (NF4) base counts as a linear layer
  return plainKind(m);
}

function isBase(m: Module): m is BaseLinear {
  return typeof (m as unknown as Partial<BaseLinear>).denseWeight === 'function';
}

function plainLinear(base: BaseLinear): Module {
  if (base instanceof LinearBase) return new Linear(base.inFeatures, base.outFeatures, { weight: base.weight, biasTensor: base.bias });
  return base;
}
