import { applyRotary, reshape, scaledDotProductAttention, transpose, type Generator, type Tensor } from '@tessera/tensor';
import type { InitOptions } from './init.js';
import type { KVCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { RMSNorm } from './norms.js';
import type { RotaryEmbedding } from './rotary-embedding.js';

/** Shape and options of a multi-head / grouped-query attention layer (Llama, Mistral, Qwen2/3). */
export interface AttentionConfig {
  hiddenSize: number;
  numHeads: number;
  /** Key/value heads; fewer than numHeads for grouped-query attention (default numHeads). */
  numKvHeads?: number;
  /** Per-head size (default hiddenSize / numHeads). */
  headDim?: number;
  /** Bias on q/k/v projections (Qwen2). */
  qkvBias?: boolean;
  /** Bias on the output projection. */
  outBias?: boolean;
  /** RMSNorm of q and k over the head dim before rotary (Qwen3), with this eps. */
  qkNormEps?: number;
  /** Dropout on attention weights while training. */
  dropout?: number;
  generator?: Generator;
}

/** What a forward call may carry besides the hidden states. */
export interface AttentionContext {
  /** Rotary tables provider; positions start at the cache length. */
  rotary?: RotaryEmbedding;
  cache?: KVCache;
  layerIndex?: number;
  /** A padding mask broadcastable to (B, H, T, S): bool (true = attend) or additive float. */
  mask?: Tensor;
  /** Positions of the first query (default this layer's cache length). */
  positionOffset?: number;
}

/** Causal self-attention with q_proj/k_proj/v_proj/o_proj (Hugging Face names), GQA, rotary, optional qk-norm and KV cache. */
export class Attention extends Module {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly q_norm: RMSNorm | null;
  readonly k_norm: RMSNorm | null;

  constructor(readonly config: AttentionConfig, opts: InitOptions = {}) {
    super();
    this.numHeads = config.numHeads;
    this.numKvHeads = config.numKvHeads ?? config.numHeads;
    this.headDim = config.headDim ?? config.hiddenSize / config.numHeads;
    if (this.numHeads % this.numKvHeads !== 0) {
      throw new RangeError(`Attention: numHeads (${this.numHeads}) must be a multiple of numKvHeads (${this.numKvHeads})`);
    }
    const h = config.hiddenSize;
    this.q_proj = this.child('q_proj', new Linear(h, this.numHeads * this.headDim, { ...opts, bias: !!config.qkvBias }));
    this.k_proj = this.child('k_proj', new Linear(h, this.numKvHeads * this.headDim, { ...opts, bias: !!config.qkvBias }));
    this.v_proj = this.child('v_proj', new Linear(h, this.numKvHeads * this.headDim, { ...opts, bias: !!config.qkvBias }));
    this.o_proj = this.child('o_proj', new Linear(this.numHeads * this.headDim, h, { ...opts, bias: !!config.outBias }));
    const qkEps = config.qkNormEps;
    this.q_norm = qkEps !== undefined ? this.child('q_norm', new RMSNorm(this.headDim, qkEps, opts)) : null;
    this.k_norm = qkEps !== undefined ? this.child('k_norm', new RMSNorm(this.headDim, qkEps, opts)) : null;
  }

  /** (B, T, hidden) -> (B, T, hidden) */
  forward(x: Tensor, ctx: AttentionContext = {}): Tensor {
    const [b, t] = x.shape as [number, number, number];
    const heads = (proj: Linear, n: number, norm: RMSNorm | null): Tensor => {
      let y = reshape(proj.forward(x), [b, t, n, this.headDim]); // (B, T, n, D)
      if (norm) y = norm.forward(y);
      return transpose(y, 1, 2); // (B, n, T, D)
    };
    let q = heads(this.q_proj, this.numHeads, this.q_norm);
    let k = heads(this.k_proj, this.numKvHeads, this.k_norm);
    let v = heads(this.v_proj, this.numKvHeads, null);
    if (ctx.rotary) {
      const offset = ctx.positionOffset ?? ctx.cache?.lengthOf(ctx.layerIndex ?? 0) ?? 0;
      const { cos, sin } = ctx.rotary.tables(t, offset);
      q = applyRotary(q, cos, sin);
      k = applyRotary(k, cos, sin);
    }
    if (ctx.cache) ({ k, v } = ctx.cache.update(ctx.layerIndex ?? 0, k, v));
    const out = scaledDotProductAttention(q, k, v, ctx.mask, {
      causal: true,
      dropoutP: this.training ? (this.config.dropout ?? 0) : 0,
      generator: this.config.generator,
    }); // (B, H, T, D)
    return this.o_proj.forward(reshape(transpose(out, 1, 2), [b, t, this.numHeads * this.headDim]));
  }
}
