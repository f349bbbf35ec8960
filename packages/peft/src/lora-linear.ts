import {
  add,
  detach,
  div,
  dropout,
  keep,
  matmul,
  mul,
  reshape,
  sqrt,
  sub,
  sum,
  tidy,
  transpose,
  withGradMode,
  type Generator,
  type Tensor,
} from '@tessera/tensor';
import { Linear, Module, constant, normal, uniform } from '@tessera/nn';
import { AdapterModules } from './adapter-dict.js';

/** One adapter's settings on one layer. */
export interface LoraLayerSettings {
  r: number;
  /** alpha / r, or alpha / √r with rsLoRA (the layer needs only the product). */
  scaling: number;
  dropout: number;
  useDora: boolean;
  init: boolean | 'gaussian';
  generator?: Generator;
}

/** DoRA's learned magnitude per output feature (saved by PEFT as `lora_magnitude_vector`). */
export class DoraMagnitude extends Module {
  weight: Tensor;
  constructor(init: Tensor) {
    super();
    this.weight = this.param('weight', init);
  }
}

/** A frozen base layer that computes x Wᵀ + b: a Linear, or a quantised (NF4) linear for QLoRA. */
export interface BaseLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  forward(x: Tensor): Tensor;
  /** The dense weight (out, in), borrowed (never dispose it): the weight itself for a Linear, a cached dequantisation for a quantised base. */
  denseWeight(): Tensor;
  /** The dtype adapters compute with next to this base. */
  readonly computeDtype: 'f32' | 'f64';
  /** Adds a delta to the weight in place (merge/unmerge); quantised bases refuse. */
  addToWeight(delta: Tensor): void;
  readonly bias: Tensor | null;
}

/** Makes a plain Linear usable as a LoRA base. */
export class LinearBase extends Linear implements BaseLinear {
  static from(l: Linear): LinearBase {
    return new LinearBase(l.inFeatures, l.outFeatures, { weight: l.weight, biasTensor: l.bias });
  }
  denseWeight(): Tensor {
    return this.weight;
  }
  get computeDtype(): 'f32' | 'f64' {
    return this.weight.dtype === 'f64' ? 'f64' : 'f32';
  }
  addToWeight(delta: Tensor): void {
    withGradMode(false, () => tidy(() => void this.weight.assign(add(this.weight, delta).cast(this.weight.dtype))));
  }
}

/**
 * A linear layer with LoRA adapters: y = base(x) + B(A(dropout(x))) · scaling, with PEFT's names
 * (`lora_A.<adapter>.weight` (r, in), `lora_B.<adapter>.weight` (out, r)); DoRA rescales each output
 * feature by magnitude / ‖W + scaling·BA‖ (norm detached, as PEFT does). The base weights keep their
 * own names (`weight`, `bias`), so the model's state dict still matches the checkpoint.
 */
export class LoraLinear extends Module {
  readonly base: BaseLinear;
  readonly lora_A = this.child('lora_A', new AdapterModules<Linear>());
  readonly lora_B = this.child('lora_B', new AdapterModules<Linear>());
  readonly lora_magnitude_vector = this.child('lora_magnitude_vector', new AdapterModules<DoraMagnitude>());
  readonly settings = new Map<string, LoraLayerSettings>();
  /** Adapters whose output is added (PEFT's active adapters). */
  active: string[] = [];
  /** Adapters folded into the base weight. */
  merged: string[] = [];
  /** When true the layer behaves as its base (PEFT's disable_adapters). */
  disabled = false;

  constructor(base: BaseLinear) {
    super();
    this.base = base;
    // The base's tensors sit at this level under their own names: `q_proj.weight` stays `q_proj.weight`.
    for (const [name, t] of base.namedParameters()) if (!name.includes('.')) this.param(name, t, { frozen: !t.requiresGrad });
    for (const [name, t] of base.namedBuffers()) if (!name.includes('.')) this.buffer(name, t);
  }

  get inFeatures(): number {
    return this.base.inFeatures;
  }
  get outFeatures(): number {
    return this.base.outFeatures;
  }
  get weight(): Tensor {
    return this.base.denseWeight();
  }
  get bias(): Tensor | null {
    return this.base.bias;
  }

  /** Adds an adapter initialised as PEFT does (A kaiming-uniform or gaussian, B zero; DoRA magnitude = ‖W‖ per row). */
  addAdapter(name: string, s: LoraLayerSettings): void {
    if (this.settings.has(name)) throw new Error(`LoraLinear: adapter "${name}" already exists on this layer; delete it first`);
    // Adapters train in f32 (f64 when the base is f64), even over an f16/bf16 base, as PEFT's autocast does.
    const opts = { generator: s.generator, dtype: this.base.computeDtype };
    const a = new Linear(this.inFeatures, s.r, { bias: false, weight: initA(s, this.inFeatures, opts) });
    const b = new Linear(s.r, this.outFeatures, {
      bias: false,
      weight: s.init === false ? normal([this.outFeatures, s.r], 1 / s.r, opts).requiresGrad_() : constant([this.outFeatures, s.r], 0, opts).requiresGrad_(),
    });
    this.lora_A.set(name, a);
    this.lora_B.set(name, b);
    if (s.useDora) {
      const norm = withGradMode(false, () => tidy(() => this.weightNorm(this.base.denseWeight(), s, a.weight, b.weight)));
      this.lora_magnitude_vector.set(name, new DoraMagnitude(norm.requiresGrad_()));
    }
    this.settings.set(name, s);
    if (!this.active.includes(name)) this.active.push(name);
  }

  /** ‖W + scaling·B·A‖ over the input dim for each output feature (shape (out)); `w0` is the base's dense weight. */
  private weightNorm(w0: Tensor, s: LoraLayerSettings, a: Tensor, b: Tensor): Tensor {
    const w = add(w0, mul(matmul(b, a), s.scaling));
    return sqrt(sum(mul(w, w), 1));
  }

  /** Removes an adapter (unmerging it first if merged). */
  deleteAdapter(name: string): void {
    if (this.merged.includes(name)) this.unmerge();
    this.lora_A.delete(name);
    this.lora_B.delete(name);
    this.lora_magnitude_vector.delete(name);
    this.settings.delete(name);
    this.active = this.active.filter((n) => n !== name);
  }

  /** (..., in) -> (..., out) */
  forward(x: Tensor): Tensor {
    let y = this.base.forward(x);
    if (this.disabled || this.merged.length > 0) {
      if (this.disabled && this.merged.length > 0) throw new Error('LoraLinear: adapters are merged into the base weight; unmerge before disabling them');
      return y;
    }
    for (const name of this.active) {
      const s = this.settings.get(name);
      if (!s) continue;
      const a = this.lora_A.get(name)!.weight;
      const b = this.lora_B.get(name)!.weight;
      const xd = dropout(x, s.dropout, { training: this.training, generator: s.generator });
      if (!s.useDora) {
        // Scale the rank-r intermediate rather than the (..., out) result: the same product, and the
        // elementwise multiply (forward and backward) runs on r columns instead of out.
        y = add(y, matmul(mul(matmul(xd, transpose(a)), s.scaling), transpose(b)));
        continue;
      }
      const lora = matmul(matmul(xd, transpose(a)), transpose(b));
      // DoRA (PEFT's DoraLinearLayer): scale = m / ‖W + sBA‖ with the norm detached;
      // result += (scale - 1) * base_no_bias(xd) + scale * lora * s.
      // One dense weight for both uses: a quantised base dequantises it anew on every call.
      const w0 = this.base.denseWeight();
      const scale = div(this.lora_magnitude_vector.get(name)!.weight, detach(this.weightNorm(w0, s, a, b)));
      const baseNoBias = matmul(xd, transpose(w0));
      y = add(y, add(mul(baseNoBias, sub(scale, 1)), mul(mul(lora, scale), s.scaling)));
    }
    return y;
  }

  /** scaling·B·A for an adapter. */
  private scaledBA(name: string): Tensor {
    const s = this.settings.get(name)!;
    return mul(matmul(this.lora_B.get(name)!.weight, this.lora_A.get(name)!.weight), s.scaling);
  }

  /** Folds active adapters into the base weight (exact within f32 rounding; `unmerge` reverses it). */
  merge(names: string[] = this.active): void {
    withGradMode(false, () => {
      for (const name of names) {
        if (this.merged.includes(name) || !this.settings.has(name)) continue;
        const s = this.settings.get(name)!;
        const d = tidy(() => {
          const ba = this.scaledBA(name);
          if (!s.useDora) return ba;
          // W' = (m / n)·(W + sBA) row-wise, n = ‖W + sBA‖. n is kept: W' alone cannot give it back.
          const w = this.base.denseWeight();
          const n = keep(this.weightNorm(w, s, this.lora_A.get(name)!.weight, this.lora_B.get(name)!.weight));
          this.mergedNorms.set(name, n);
          const scale = reshape(div(this.lora_magnitude_vector.get(name)!.weight, n), [-1, 1]);
          return sub(mul(add(w, ba), scale), w);
        });
        this.base.addToWeight(d);
        d.dispose();
        this.merged.push(name);
      }
    });
  }

  /** Takes merged adapters back out of the base weight, newest first. */
  unmerge(): void {
    withGradMode(false, () => {
      while (this.merged.length) {
        const name = this.merged.pop()!;
        const s = this.settings.get(name)!;
        const d = tidy(() => {
          const ba = this.scaledBA(name);
          if (!s.useDora) return mul(ba, -1);
          // W = W'·(n / m) - sBA
          const w = this.base.denseWeight();
          const n = this.mergedNorms.get(name)!;
          const inv = reshape(div(n, this.lora_magnitude_vector.get(name)!.weight), [-1, 1]);
          return sub(sub(mul(w, inv), ba), w);
        });
        this.base.addToWeight(d);
        d.dispose();
        this.mergedNorms.get(name)?.dispose();
        this.mergedNorms.delete(name);
      }
    });
  }

  /** Row norms ‖W + sBA‖ at merge time, needed to undo a DoRA merge exactly. */
  readonly mergedNorms = new Map<string, Tensor>();
}

function initA(s: LoraLayerSettings, inFeatures: number, opts: { generator?: Generator; dtype: 'f32' | 'f64' }): Tensor {
  // PEFT: kaiming_uniform_(a=√5) gives U(±1/√in); 'gaussian' draws N(0, 1/r).
  if (s.init === 'gaussian') return normal([s.r, inFeatures], 1 / s.r, opts).requiresGrad_();
  const bound = 1 / Math.sqrt(inFeatures);
  return uniform([s.r, inFeatures], -bound, bound, opts).requiresGrad_();
}
