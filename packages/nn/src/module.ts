import { cast, type Tensor } from '@tessera/tensor';

/**
 * A layer or model: named parameters (tensors that train), buffers (tensors that do not) and child
 * modules, addressed by dotted paths that match Hugging Face state-dict keys
 * (`model.layers.0.self_attn.q_proj.weight`).
 */
export class Module {
  /** Dropout and similar layers behave differently in training; set by `train()` / `eval()`. */
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Registers a parameter (it requires grad unless `frozen`); returns it. */
  protected param(name: string, t: Tensor, opts: { frozen?: boolean } = {}): Tensor {
    if (!opts.frozen) t.requiresGrad_();
    this.#params.set(name, t);
    return t;
  }

  /** Registers a buffer: state saved in the state dict but not trained (e.g. norm statistics). */
  protected buffer(name: string, t: Tensor): Tensor {
    this.#buffers.set(name, t);
    return t;
  }

  /** Registers a child module under a name (a number for list entries); returns it. */
  protected child<M extends Module>(name: string | number, m: M): M {
    this.#children.set(String(name), m);
    return m;
  }

  /**
   * Replaces a child module (how adapters wrap a Linear in place); returns the new one. A field of
   * this module that held the old child is pointed at the new one, so `forward` code that calls
   * `this.q_proj.forward(x)` runs the replacement.
   */
  replaceChild<M extends Module>(name: string, m: M): M {
    const old = this.#children.get(name);
    if (!old) throw new Error(`replaceChild: ${this.constructor.name} has no child "${name}" (children: ${[...this.#children.keys()].join(', ')})`);
    this.#children.set(name, m);
    const self = this as unknown as Record<string, unknown>;
    if (self[name] === old) self[name] = m;
    return m;
  }

  /** Removes a child module (and returns it), e.g. when an adapter is deleted. */
  protected removeChild(name: string): Module | undefined {
    const m = this.#children.get(name);
    this.#children.delete(name);
    return m;
  }

  /** Removes a parameter registration (e.g. when an adapter is deleted); the tensor is returned, not disposed. */
  protected removeParam(name: string): Tensor | undefined {
    const t = this.#params.get(name);
    this.#params.delete(name);
    return t;
  }

  /** Direct children by name. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** Every module in the tree with its dotted path ('' for this one), parents before children. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.#children) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Every parameter with its dotted path. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, t] of m.#params) out.push([path ? `${path}.${name}` : name, t]);
    }
    return out;
  }

  /** Every parameter. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters that require grad (the ones an optimizer updates). */
  trainableParameters(): [string, Tensor][] {
    return this.namedParameters().filter(([, t]) => t.requiresGrad);
  }

  /** Every buffer with its dotted path. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, t] of m.#buffers) out.push([path ? `${path}.${name}` : name, t]);
    }
    return out;
  }

  /** Parameters and buffers by dotted name (Hugging Face keys for the models of @tessera/models). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Loads values into parameters and buffers by name (taking over the given tensors' memory;
   * dtypes are converted to the module's). `strict` (default) reports missing and unexpected keys.
   */
  loadStateDict(dict: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !own.has(k));
    if ((opts.strict ?? true) && (missing.length || unexpected.length)) {
      throw new Error(
        `loadStateDict: keys do not match${missing.length ? `; missing: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` (+${missing.length - 10} more)` : ''}` : ''}` +
          `${unexpected.length ? `; unexpected: ${unexpected.slice(0, 10).join(', ')}${unexpected.length > 10 ? ` (+${unexpected.length - 10} more)` : ''}` : ''}` +
          '; pass { strict: false } to load the keys that match',
      );
    }
    for (const [key, target] of own) {
      const src = entries.get(key);
      if (!src) continue;
      if (src.rank !== target.rank || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new RangeError(`loadStateDict: "${key}" has shape [${src.shape.join(',')}] but the module expects [${target.shape.join(',')}]`);
      }
      const value = src.dtype === target.dtype ? src : cast(src, target.dtype);
      target.assign(value);
      if (value !== src) value.dispose();
    }
    return { missing, unexpected };
  }

  /** Switches this module and its children to training mode (dropout on). */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Switches to evaluation mode (dropout off). */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every module of the tree, children first (PyTorch's `apply`). */
  apply(fn: (m: Module, path: string) => void): this {
    for (const [path, m] of this.namedModules().reverse()) fn(m, path);
    return this;
  }

  /** Freezes (false) or unfreezes (true) every parameter. */
  requiresGrad_(on = true): this {
    for (const [, p] of this.namedParameters()) p.requiresGrad = on;
    return this;
  }

  /** The number of elements in all parameters (or only trainable ones). */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    return this.namedParameters()
      .filter(([, p]) => !opts.trainableOnly || p.requiresGrad)
      .reduce((n, [, p]) => n + p.size, 0);
  }

  /** The module at a dotted path, or a clear error. */
  getModule(path: string): Module {
    const found = this.namedModules().find(([p]) => p === path);
    if (!found) throw new Error(`getModule: no module at "${path}" in ${this.constructor.name}`);
    return found[1];
  }

  /** Disposes every parameter and buffer, through each child's own dispose (which may hold more, e.g. a cached dequantised weight). */
  dispose(): void {
    for (const t of [...this.#params.values(), ...this.#buffers.values()]) t.dispose();
    for (const m of this.#children.values()) m.dispose();
  }
}
