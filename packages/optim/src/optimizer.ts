import { keep, type Tensor } from '@tessera/tensor';
import type { ParamGroup } from './param-groups.js';

/** Serialisable optimizer state: the step count, per-group learning rates, and per-parameter tensors by name. */
export interface OptimizerState {
  step: number;
  lrs: number[];
  state: Map<string, Record<string, Tensor>>;
}

/** What AdamW and SGD share: groups, a learning rate schedules can set, zeroGrad and state for resume. */
export abstract class Optimizer {
  readonly groups: ParamGroup[];
  /** Number of completed steps. */
  stepCount = 0;
  protected readonly state = new Map<string, Record<string, Tensor>>();
  #baseLr: number;

  constructor(groups: ParamGroup[], lr: number) {
    this.groups = groups;
    this.#baseLr = lr;
    for (const g of groups) g.lr ??= lr;
    const names = new Set<string>();
    for (const g of groups) {
      for (const [name] of g.params) {
        if (names.has(name)) throw new Error(`optimizer: parameter "${name}" appears in more than one group`);
        names.add(name);
      }
    }
  }

  /** The learning rate of the first group. */
  get lr(): number {
    return this.groups[0]?.lr ?? this.#baseLr;
  }

  /** Sets every group's learning rate (what schedulers call). */
  set lr(value: number) {
    for (const g of this.groups) g.lr = value;
  }

  /** The learning rate the optimizer was created with (schedules scale it). */
  get baseLr(): number {
    return this.#baseLr;
  }

  /** Named parameters of every group. */
  namedParameters(): [string, Tensor][] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Disposes and clears every parameter's gradient. */
  zeroGrad(): void {
    for (const [, p] of this.namedParameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Applies one update from the current gradients (parameters without a gradient are skipped). */
  abstract step(): void;

  /** Per-parameter state tensors are kept outside any tidy scope; old ones are disposed. */
  protected setState(name: string, entries: Record<string, Tensor>): void {
    const old = this.state.get(name);
    for (const t of Object.values(entries)) keep(t);
    if (old) for (const [k, t] of Object.entries(old)) if (entries[k] !== t) t.dispose();
    this.state.set(name, entries);
  }

  /** A snapshot for exact resume (tensors are shared: save them before the next step). */
  stateDict(): OptimizerState {
    return { step: this.stepCount, lrs: this.groups.map((g) => g.lr!), state: new Map(this.state) };
  }

  /** Restores a snapshot taken by `stateDict` (tensors are copied). */
  loadStateDict(s: OptimizerState): void {
    const names = new Set(this.namedParameters().map(([n]) => n));
    for (const name of s.state.keys()) {
      if (!names.has(name)) throw new Error(`loadStateDict: state for unknown parameter "${name}"; the optimizer has ${[...names].slice(0, 5).join(', ')}...`);
    }
    if (s.lrs.length !== this.groups.length) throw new Error(`loadStateDict: ${s.lrs.length} group learning rates for ${this.groups.length} groups`);
    this.stepCount = s.step;
    s.lrs.forEach((lr, i) => (this.groups[i]!.lr = lr));
    for (const [name, entries] of s.state) {
      this.setState(name, Object.fromEntries(Object.entries(entries).map(([k, t]) => [k, t.clone()])));
    }
  }

  /** Frees all optimizer state. */
  dispose(): void {
    for (const entries of this.state.values()) for (const t of Object.values(entries)) t.dispose();
    this.state.clear();
  }
}
