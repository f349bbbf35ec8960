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
 * A module in modules_to_save, shared by every adapter that saves it. As PEFT's ModulesToSaveWrapper
 * holds one copy per adapter, each saving adapter has its own trained values; the module's own
 * tensors (nothing else reads them) hold the values in use: the active adapter's when it saves the
 * module, else the original values, as PEFT runs its original module while adapters are disabled
 * or another adapter is active. A token embedding a tied head reads is split by TiedEmbeddingCopy
 * so the head keeps the original, unless the config asks to keep the tie (ensureWeightTying): then
 * the head reads the trained table, as the embedding.
 */
interface SavedModule {
  /** The module's parameters with their full paths: the tensors the model runs with. */
  params: [string, Tensor][];
  originals: Tensor[];
  /** Each saving adapter's trained values by adapter name; null for the one whose values are in `params`. */
  trained: Map<string, Tensor[] | null>;
  /** The TiedEmbeddingCopy put in place of a tied embedding, with the embedding it replaced. */
  tied: { path: string; embedding: Embedding } | null;
}

/** The adapter whose trained values a saved module's tensors hold, or null when they hold the originals. */
function shownOf(s: SavedModule): string | null {
  for (const [name, aside] of s.trained) if (aside === null) return name;
  return null;
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
  /** Set by disableAdapterLayers. */
  #disabled = false;

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
      const existing = this.#saved.get(path);
      if (existing) {
        // Another adapter saves this module too: this one starts from the original values, as PEFT's copy does.
        existing.trained.set(name, withGradMode(false, () => existing.originals.map((t) => keep(clone(t)))));
        continue;
      }
      const m = this.model.getModule(path);
      const params = m.namedParameters().map(([p, t]): [string, Tensor] => [`${path}.${p}`, t]);
      const originals = withGradMode(false, () => params.map(([, t]) => keep(clone(t))));
      let tied: SavedModule['tied'] = null;
      if (tiedToHead(this.model, m) && !cfg.ensureWeightTying) {
        const { parent, name: childName } = parentOf(this.model, path);
        parent.replaceChild(childName, new TiedEmbeddingCopy(m as Embedding, originals[0]!));
        tied = { path, embedding: m as Embedding };
      }
      // The module's tensors hold the original values, which are this adapter's starting values.
      this.#saved.set(path, { params, originals, trained: new Map([[name, null]]), tied });
    }
    this.configs.set(name, cfg);
    // As in PEFT, adding an adapter does not activate it (the first one excepted).
    this.setAdapter(this.configs.size === 1 ? name : this.activeAdapter);
  }

  /**
   * The module paths an adapter's modules_to_save names (the outermost module each name matches), with
   * a clear error for a name that matches nothing, or a module that holds a LoRA layer or whose tie
   * to the output head another adapter saving it keeps differently.
   */
  #savedModulePaths(name: string, cfg: LoraConfig, targets: string[]): string[] {
    const out: string[] = [];
    const modules = this.model.namedModules();
    for (const wanted of cfg.modulesToSave) {
      const matches = modules.filter(([p]) => p !== '' && inSavedModule(p, wanted)).filter(([p], _, all) => !all.some(([q]) => p.startsWith(`${q}.`)));
      if (matches.length === 0) throw new Error(`PeftModel: modules_to_save "${wanted}" matches no module`);
      for (const [p] of matches) {
        const other = this.#saved.get(p);
        const otherTies = other && other.tied === null && tiedToHead(this.model, this.model.getModule(p));
        if (other && other.tied !== null && cfg.ensureWeightTying) throw new Error(`PeftModel: modules_to_save "${wanted}" (${p}) is saved by adapter "${[...other.trained.keys()][0]}" with its output head kept apart, but this config sets ensureWeightTying; give both adapters the same ensureWeightTying`);
        if (otherTies && !cfg.ensureWeightTying) throw new Error(`PeftModel: modules_to_save "${wanted}" (${p}) is saved by adapter "${[...other.trained.keys()][0]}" with ensureWeightTying (the tied head reads the trained table), but this config does not set it; give both adapters the same ensureWeightTying`);
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
    this.#showActive();
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

  /**
   * Puts the values the model runs with in every saved module: PEFT runs a saved module's copy for
   * the active adapter when it saved the module, the original for any other adapter and while
   * adapters are disabled.
   */
  #showActive(): void {
    for (const s of this.#saved.values()) this.#show(s, !this.#disabled && s.trained.has(this.activeAdapter) ? this.activeAdapter : null);
  }

  /** Puts one adapter's trained values (or, for null, the original values) in a saved module's tensors. */
  #show(s: SavedModule, adapter: string | null): void {
    const shown = shownOf(s);
    if (shown === adapter) return;
    withGradMode(false, () => {
      if (shown !== null) s.trained.set(shown, s.params.map(([, t]) => keep(clone(t))));
      const values = adapter === null ? s.originals : s.trained.get(adapter)!;
      s.params.forEach(([, t], i) => t.assign(values[i]!));
      if (adapter !== null) {
        for (const t of values) t.dispose();
        s.trained.set(adapter, null);
      }
    });
  }

  /**
   * The tensors holding an adapter's trained values of its modules_to_save, by parameter path: the
   * model's own while the values are in place, else the copy kept aside. Saving reads them and
   * loading writes them, so neither touches the values another adapter runs with.
   */
  savedValues(name: string): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const s of this.#saved.values()) {
      if (!s.trained.has(name)) continue;
      const aside = s.trained.get(name)!;
      s.params.forEach(([path, t], i) => out.set(path, aside === null ? t : aside[i]!));
    }
    return out;
  }

  /** Forgets an adapter's copy of a saved module; the last copy gone, the original values stay in place and a tied embedding gets its module back. */
  #unsave(path: string, s: SavedModule, name: string): void {
    if (shownOf(s) === name) this.#show(s, null);
    for (const t of s.trained.get(name) ?? []) t.dispose();
    s.trained.delete(name);
    if (s.trained.size > 0) return;
    if (s.tied) {
      const { parent, name: childName } = parentOf(this.model, s.tied.path);
      parent.replaceChild(childName, s.tied.embedding);
    }
    for (const t of s.originals) t.dispose();
    this.#saved.delete(path);
  }

  /** Turns every adapter off until `enableAdapterLayers`: the base model's behaviour, saved modules at their original values (PEFT's disable_adapter_layers). */
  disableAdapterLayers(): void {
    this.#disabled = true;
    for (const [, l] of this.loraLayers()) l.disabled = true;
    this.#showActive();
  }

  /** Undoes `disableAdapterLayers`: the active adapter runs again (PEFT's enable_adapter_layers). */
  enableAdapterLayers(): void {
    this.#disabled = false;
    for (const [, l] of this.loraLayers()) l.disabled = false;
    this.#showActive();
  }

  /** Runs `fn` with every adapter off: the base model's behaviour, saved modules back to their original values (PEFT's `disable_adapter()` context). */
  withAdaptersDisabled<T>(fn: () => T): T {
    if (this.#disabled) return fn();
    this.disableAdapterLayers();
    try {
      return fn();
    } finally {
      this.enableAdapterLayers();
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
    for (const [path, s] of [...this.#saved]) if (s.trained.has(name)) this.#unsave(path, s, name);
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
      for (const aside of s.trained.values()) for (const t of aside ?? []) t.dispose();
      if (!s.tied) for (const t of s.originals) t.dispose(); // a tied head still reads its originals
    }
    this.#saved.clear();
    this.#originals.clear();
    this.configs.clear();
    return this.model;
  }

  /** Frees the model and what PeftModel keeps beside it: the original and set-aside trained values of modules_to_save. */
  dispose(): void {
    for (const s of this.#saved.values()) {
      for (const aside of s.trained.values()) for (const t of aside ?? []) t.dispose();
      for (const t of s.originals) t.dispose();
    }
    this.#saved.clear();
    this.model.dispose();
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
  // A saved module never holds a LoRA layer (#savedModulePaths), so m is the plain embedding.
  return config?.tieWordEmbeddings === true && m instanceof Embedding && m.numEmbeddings === config.vocabSize;
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
