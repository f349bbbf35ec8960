import { checkpoint } from '@tessera/autograd';
import { Embedding, KVCache, LayerNorm, Module, activate, causalLmLoss } from '@tessera/nn';
import {
  Generator,
  add,
  arange,
  cast,
  contiguous,
  embedding,
  fmtShape,
  full,
  isGradEnabled,
  matmul,
  randn,
  reshape,
  scaledDotProductAttention,
  split,
  squeeze,
  tidy,
  transpose,
  type DType,
  type Tensor,
} from '@tessera/tensor';
import { Conv1D } from './conv1d.js';
import type { GPT2Config } from './gpt2-config.js';
import { paddingMask, type CausalLmOutput, type LlamaInitOptions } from './llama.js';
import { ModuleList } from './module-list.js';
import { generate as generateFrom, type GenerateOptions, type GenerateResult } from './generate.js';

/** Where a GPT-2's parameters live and how they start (same options as the Llama family). */
export type GPT2InitOptions = LlamaInitOptions;

/** Inputs of a GPT-2 forward pass besides the token ids (the shared `generate` drives these). */
export interface GPT2ForwardOptions {
  /** (B, S) 1 for tokens, 0 for padding, S = cached + new positions. */
  attentionMask?: Tensor;
  /** (B, T) next-token targets, -100 where ignored (HF's shifted loss). */
  labels?: Tensor;
  cache?: KVCache;
  /** Position of the first new token (default the cache length); ignored when positionIds is given. */
  positionOffset?: number;
  /** (B, T) absolute positions (left-padded generation counts from each row's first token). */
  positionIds?: Tensor;
  /** Logits only for the last n positions (generation needs 1). */
  logitsToKeep?: number;
}

interface BlockContext {
  mask: Tensor | undefined;
  cache: KVCache | undefined;
}

/** GPT-2 self-attention: fused c_attn (q, k, v), causal softmax attention, c_proj. */
export class GPT2Attention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;

  constructor(readonly config: GPT2Config, readonly layerIndex: number, opts: GPT2InitOptions) {
    super();
    const o = { dtype: opts.dtype, device: opts.device };
    this.c_attn = this.child('c_attn', new Conv1D(config.nEmbd, 3 * config.nEmbd, o));
    this.c_proj = this.child('c_proj', new Conv1D(config.nEmbd, config.nEmbd, o));
  }

  /** (B, T, C) -> (B, T, C) */
  forward(x: Tensor, ctx: BlockContext): Tensor {
    const [b, t, c] = x.shape as [number, number, number];
    const h = this.config.nHead;
    // (B, T, 3C) -> (B, T, 3, H, D) is a view of the dense projection; each of q, k, v is copied
    // dense as (B, T, H, D), the layout the attention kernels read fastest (strided views of the
    // projection made the three attention ops ~20 ms a train step slower than these copies). The
    // chunks' gradients, transposed views, go straight into the concat the split needs anyway;
    // splitting (B, T, 3C) first and reshaping each chunk instead copied every gradient once more.
    const qkv = reshape(this.c_attn.forward(x), [b, t, 3, h, c / h]);
    const [q, k0, v0] = split(qkv, 1, 2).map((y) => transpose(contiguous(squeeze(y, 2)), 1, 2)) as [Tensor, Tensor, Tensor]; // (B, H, T, D)
    const { k, v } = ctx.cache ? ctx.cache.update(this.layerIndex, k0, v0) : { k: k0, v: v0 };
    const out = scaledDotProductAttention(q, k, v, ctx.mask, { causal: true });
    return this.c_proj.forward(reshape(transpose(out, 1, 2), [b, t, c]));
  }
}

/** GPT-2 MLP: c_fc -> activation (gelu_new) -> c_proj. */
export class GPT2MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;

  constructor(readonly config: GPT2Config, opts: GPT2InitOptions) {
    super();
    const o = { dtype: opts.dtype, device: opts.device };
    this.c_fc = this.child('c_fc', new Conv1D(config.nEmbd, config.nInner, o));
    this.c_proj = this.child('c_proj', new Conv1D(config.nInner, config.nEmbd, o));
  }

  /** (B, T, C) -> (B, T, C) */
  forward(x: Tensor): Tensor {
    return this.c_proj.forward(activate(this.c_fc.forward(x), this.config.activationFunction));
  }
}

/** One pre-norm GPT-2 block: x + attn(ln_1(x)), then + mlp(ln_2(.)). */
export class GPT2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPT2MLP;

  constructor(readonly config: GPT2Config, layerIndex: number, opts: GPT2InitOptions) {
    super();
    const o = { dtype: opts.dtype, device: opts.device };
    this.ln_1 = this.child('ln_1', new LayerNorm(config.nEmbd, config.layerNormEpsilon, o));
    this.attn = this.child('attn', new GPT2Attention(config, layerIndex, opts));
    this.ln_2 = this.child('ln_2', new LayerNorm(config.nEmbd, config.layerNormEpsilon, o));
    this.mlp = this.child('mlp', new GPT2MLP(config, opts));
  }

  /** (B, T, C) -> (B, T, C) */
  forward(x: Tensor, ctx: BlockContext): Tensor {
    const mid = add(x, this.attn.forward(this.ln_1.forward(x), ctx));
    return add(mid, this.mlp.forward(this.ln_2.forward(mid)));
  }
}

/** The GPT-2 trunk (GPT2Model): wte, wpe, h, ln_f. */
export class GPT2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<GPT2Block>;
  readonly ln_f: LayerNorm;

  constructor(readonly config: GPT2Config, opts: GPT2InitOptions) {
    super();
    const o = { dtype: opts.dtype, device: opts.device, skipInit: true };
    this.wte = this.child('wte', new Embedding(config.vocabSize, config.nEmbd, o));
    this.wpe = this.child('wpe', new Embedding(config.nPositions, config.nEmbd, o));
    this.h = this.child('h', new ModuleList(Array.from({ length: config.nLayer }, (_, i) => new GPT2Block(config, i, opts))));
    this.ln_f = this.child('ln_f', new LayerNorm(config.nEmbd, config.layerNormEpsilon, o));
  }
}

/** GPT-2 with its language-model head tied to transformer.wte, under Hugging Face's parameter names. */
export class GPT2LMHeadModel extends Module {
  readonly transformer: GPT2Model;
  /** Recompute each block's activations during backward instead of keeping them. */
  gradientCheckpointing = false;

  constructor(readonly config: GPT2Config, opts: GPT2InitOptions = {}) {
    super();
    const generator = opts.generator ?? new Generator(0);
    this.transformer = this.child('transformer', new GPT2Model(config, { ...opts, generator }));
    if (opts.init ?? true) this.initWeights(generator);
  }

  /** The parameter dtype. */
  get dtype(): DType {
    return this.transformer.wte.weight.dtype;
  }

  /** Generates continuations with a KV cache (greedy or sampled; see `generateStream` for the options). */
  generate(inputIds: Tensor | number[] | number[][], opts: GenerateOptions = {}): Promise<GenerateResult> {
    return generateFrom(this, inputIds, opts);
  }

  /** The backend holding the parameters. */
  get device(): string {
    return this.transformer.wte.weight.device;
  }

  /** Hugging Face's GPT-2 init: weights ~ N(0, 0.02), c_proj weights N(0, 0.02 / sqrt(2 n_layer)), biases 0, LayerNorms 1. */
  initWeights(generator: Generator): void {
    const std = this.config.initializerRange;
    for (const [name, p] of this.namedParameters()) {
      const next = tidy(() => {
        if (/ln_(1|2|f)\.weight$/.test(name)) return full(p.shape, 1, { dtype: p.dtype, device: p.device });
        if (name.endsWith('.bias')) return full(p.shape, 0, { dtype: p.dtype, device: p.device });
        const s = name.endsWith('c_proj.weight') ? std / Math.sqrt(2 * this.config.nLayer) : std;
        return cast(randn(p.shape, { generator, device: p.device }).mul(s), p.dtype);
      });
      p.assign(next);
      next.dispose();
    }
  }

  /** Token ids (B, T) -> logits (B, T, V), and the shifted causal LM loss when labels are given. */
  forward(inputIds: Tensor, opts: GPT2ForwardOptions = {}): CausalLmOutput {
    const c = this.config;
    if (inputIds.rank !== 2) throw new RangeError(`GPT2LMHeadModel: inputIds must be (B, T) integer ids, got ${fmtShape(inputIds.shape)}; add a batch dim with reshape([1, -1])`);
    if (inputIds.dtype !== 'i32' && inputIds.dtype !== 'u32') throw new TypeError(`GPT2LMHeadModel: inputIds must be i32 token ids, got ${inputIds.dtype}; cast them with .cast('i32')`);
    const [b, t] = inputIds.shape as [number, number];
    const past = opts.cache?.length ?? 0;
    const total = past + t;
    if (total > c.nPositions) throw new RangeError(`GPT2LMHeadModel: ${total} positions exceed n_positions ${c.nPositions}; shorten the input or the generation`);
    const offset = opts.positionOffset ?? past;
    const positions = opts.positionIds ?? reshape(arange(offset, offset + t, 1, { device: inputIds.device }), [1, t]);
    const tr = this.transformer;
    const mask = opts.attentionMask ? paddingMask(opts.attentionMask, b, t, total) : undefined;
    const ctx: BlockContext = { mask, cache: opts.cache };
    let h = add(tr.wte.forward(inputIds), embedding(cast(positions, 'i32'), tr.wpe.weight)); // (B, T, C)
    for (const block of tr.h.items) {
      h = this.gradientCheckpointing && isGradEnabled() ? checkpoint((x) => block.forward(x, ctx), h) : block.forward(h, ctx);
    }
    h = tr.ln_f.forward(h);
    const keep = opts.logitsToKeep;
    const partial = keep !== undefined && keep > 0 && keep < t;
    if (partial) h = h.slice(1, t - keep, t);
    const logits = matmul(h, transpose(tr.wte.weight)); // tied lm_head: (B, T, V)
    if (!opts.labels) return { logits };
    if (partial) throw new Error('GPT2LMHeadModel: labels need logits for every position; drop logitsToKeep when computing the loss');
    return { logits, loss: causalLmLoss(logits.dtype === 'f32' ? logits : cast(logits, 'f32'), opts.labels) };
  }
}
