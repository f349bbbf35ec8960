import { Module } from '@tessera/nn';
import type { Tensor } from '@tessera/tensor';

/** Child modules keyed by adapter name (PEFT's ModuleDict), so parameter paths read `lora_A.<adapter>.weight`. */
export class AdapterModules<M extends Module> extends Module {
  readonly #items = new Map<string, M>();

  /** Adds (or replaces) the module of an adapter. */
  set(name: string, m: M): M {
    if (this.#items.has(name)) this.removeChild(name);
    this.#items.set(name, m);
    return this.child(name, m);
  }

  /** The adapter's module, if any. */
  get(name: string): M | undefined {
    return this.#items.get(name);
  }

  /** Removes and disposes an adapter's module. */
  delete(name: string): void {
    const m = this.#items.get(name);
    if (!m) return;
    this.#items.delete(name);
    this.removeChild(name);
    m.dispose();
  }

  /** Adapter names present. */
  names(): string[] {
    return [...this.#items.keys()];
  }
}

/** Parameters keyed by adapter name (PEFT's ParameterDict), so paths read `lora_embedding_A.<adapter>`. */
export class AdapterParams extends Module {
  readonly #items = new Map<string, Tensor>();

  /** Adds (or replaces) an adapter's parameter; it requires grad. */
  set(name: string, t: Tensor): Tensor {
    this.delete(name);
    this.#items.set(name, t);
    return this.param(name, t);
  }

  /** The adapter's parameter, if any. */
  get(name: string): Tensor | undefined {
    return this.#items.get(name);
  }

  /** Removes and disposes an adapter's parameter. */
  delete(name: string): void {
    const t = this.#items.get(name);
    if (!t) return;
    this.#items.delete(name);
    this.removeParam(name);
    t.dispose();
  }

  /** Adapter names present. */
  names(): string[] {
    return [...this.#items.keys()];
  }
}
