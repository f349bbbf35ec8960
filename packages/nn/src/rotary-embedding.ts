import { keep as keepTensor, rotaryTables, type Tensor } from '@tessera/tensor';

/** Llama 3's rope scaling (`rope_scaling` with `rope_type: "llama3"` in config.json). */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** Inverse frequencies theta^(-2i/d), rescaled as Llama 3 does when scaling is given (transformers' `_compute_llama3_parameters`). */
export function ropeInverseFrequencies(dim: number, theta: number, scaling?: Llama3RopeScaling): number[] {
  const inv = Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
  if (!scaling) return inv;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = scaling;
  const lowWavelen = old / lowFreqFactor;
  const highWavelen = old / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** cos/sin tables for rotary position embedding, cached per (offset, length). */
export class RotaryEmbedding {
  readonly invFreq: number[];
  #cache = new Map<string, { cos: Tensor; sin: Tensor }>();

  constructor(readonly dim: number, readonly theta = 10000, scaling?: Llama3RopeScaling, readonly device?: string) {
    if (dim % 2 !== 0) throw new RangeError(`RotaryEmbedding: dim must be even (got ${dim})`);
    this.invFreq = ropeInverseFrequencies(dim, theta, scaling);
  }

  /** Tables (length, dim) for positions offset..offset+length-1; kept for reuse until `dispose`. */
  tables(length: number, offset = 0): { cos: Tensor; sin: Tensor } {
    const key = `${offset}:${length}`;
    let t = this.#cache.get(key);
    if (!t) {
      t = rotaryTables(length, this.dim, { invFreq: this.invFreq, offset, device: this.device });
      // Tables outlive any tidy scope they are first made in.
      for (const x of [t.cos, t.sin]) keepTensor(x);
      if (this.#cache.size > 64) this.clear();
      this.#cache.set(key, t);
    }
    return t;
  }

  /** Frees cached tables. */
  clear(): void {
    for (const { cos, sin } of this.#cache.values()) {
      cos.dispose();
      sin.dispose();
    }
    this.#cache.clear();
  }
}
