import { add, embedding, matmul, mul, transpose, withGradMode, tidy, type Generator, type Tensor } from '@tessera/tensor';
import { Embedding, Module, constant, normal } from '@tessera/nn';
import { AdapterParams } from './adapter-dict.js';

/** One embedding adapter's settings. */
export interface LoraEmbeddingSettings {
  r: number;
  /** alpha / r, or alpha / √r with rsLoRA. */
  scaling: number;
  generator?: Generator;
}

/**
 * An embedding with LoRA adapters, PEFT's layout: `lora_embedding_A.<adapter>` (r, num) and
 * `lora_embedding_B.<adapter>` (dim, r); y = E[ids] + (Aᵀ[ids]) Bᵀ · scaling. A starts at zero and
 * B normal, as PEFT initialises embedding adapters.
 */
export class LoraEmbedding extends Module {
  readonly base: Embedding;
  readonly lora_embedding_A = this.child('lora_embedding_A', new AdapterParams());
  readonly lora_embedding_B = this.child('lora_embedding_B', new AdapterParams());
  readonly settings = new Map<string, LoraEmbeddingSettings>();
  active: string[] = [];
  merged: string[] = [];
  disabled = false;

  constructor(base: Embedding) {
    super();
    this.base = base;
    this.param('weight', base.weight, { frozen: !base.weight.requiresGrad });
  }

  get weight(): Tensor {
    return this.base.weight;
  }

  /** Adds an adapter. */
  addAdapter(name: string, s: LoraEmbeddingSettings): void {
    if (this.settings.has(name)) throw new Error(`LoraEmbedding: adapter "${name}" already exists on this layer; delete it first`);
    const dtype = this.base.weight.dtype === 'f64' ? 'f64' : 'f32';
    this.lora_embedding_A.set(name, constant([s.r, this.base.numEmbeddings], 0, { dtype }).requiresGrad_());
    this.lora_embedding_B.set(name, normal([this.base.embeddingDim, s.r], 1, { generator: s.generator, dtype }).requiresGrad_());
    this.settings.set(name, s);
    if (!this.active.includes(name)) this.active.push(name);
  }

  /** Removes an adapter. */
  deleteAdapter(name: string): void {
    if (this.merged.includes(name)) this.unmerge();
    this.lora_embedding_A.delete(name);
    this.lora_embedding_B.delete(name);
    this.settings.delete(name);
    this.active = this.active.filter((n) => n !== name);
  }

  /** ids (...) -> (..., dim) */
  forward(ids: Tensor): Tensor {
    let y = this.base.forward(ids);
    if (this.disabled || this.merged.length > 0) {
      if (this.disabled && this.merged.length > 0) throw new Error('LoraEmbedding: adapters are merged into the base weight; unmerge before disabling them');
      return y;
    }
    for (const name of this.active) {
      const s = this.settings.get(name);
      if (!s) continue;
      const a = this.lora_embedding_A.get(name)!;
      const b = this.lora_embedding_B.get(name)!;
      y = add(y, mul(matmul(embedding(ids, transpose(a)), transpose(b)), s.scaling));
    }
    return y;
  }

  private delta(name: string): Tensor {
    // (num, dim) = Aᵀ Bᵀ · scaling
    return mul(transpose(matmul(this.lora_embedding_B.get(name)!, this.lora_embedding_A.get(name)!)), this.settings.get(name)!.scaling);
  }

  /** Folds adapters into the table. */
  merge(names: string[] = this.active): void {
    withGradMode(false, () => {
      for (const name of names) {
        if (this.merged.includes(name) || !this.settings.has(name)) continue;
        tidy(() => void this.base.weight.assign(add(this.base.weight, this.delta(name)).cast(this.base.weight.dtype)));
        this.merged.push(name);
      }
    });
  }

  /** Takes merged adapters back out. */
  unmerge(): void {
    withGradMode(false, () => {
      while (this.merged.length) {
        const name = this.merged.pop()!;
        tidy(() => void this.base.weight.assign(add(this.base.weight, mul(this.delta(name), -1)).cast(this.base.weight.dtype)));
      }
    });
  }
}
