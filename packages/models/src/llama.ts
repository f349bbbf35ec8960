import { checkpoint } from '@tessera/autograd';
import { Attention, Embedding, GatedMlp, KVCache, Linear, Module, RMSNorm, causalLmLoss } from '@tessera/nn';
import {
  Generator,
  add,
  arange,
  cast,
  detach,
  eq,
  fmtShape,
  full,
  isGradEnabled,
  lt,
  matmul,
  ne,
  randn,
  reshape,
  sub,
  tidy,
  transpose,
  where,
  type DType,
  type Tensor,
} from '@tessera/tensor';
import type { LlamaConfig } from './llama-config.js';
import { PositionRotary } from './position-rotary.js';
import { generate as generateFrom, type GenerateOptions, type GenerateResult } from './generate.js';

/** Where a model's parameters live and how they start. */
export interface LlamaInitOptions {
  /** Parameter dtype (default f32); bf16/f16 keep half the memory and compute through f32 on backends without them. */
  dtype?: DType;
  device?: string;
  /** Seeded source of the random initialisation (default a Generator seeded 0). */
  generator?: Generator;
  /** Hugging Face's initialisation (normal(0, initializer_range), zero biases, unit norms). Default true; false leaves zeros (and norms at 1) for loaders to fill, drawing no random numbers. */
  init?: boolean;
}

/** Inputs of a forward pass besides the token ids. */
export interface LlamaForwardOptions {
  /**
   * (B, S) 1 for tokens, 0 for padding, where S = cached + new positions (Hugging Face's attention_mask);
   * or (B, T, S) 1 where query i may see key j, e.g. the block-diagonal mask of packed rows
   * (@tessera/datasets' padCollate of packed rows), so packed examples never attend to each other.
   */
  attentionMask?: Tensor;
  /** (B, T) next-token targets, -100 where ignored; the loss is Hugging Face's shifted causal LM loss. */
  labels?: Tensor;
  /** Keys and values of earlier positions; the new ones are appended. */
  cache?: KVCache;
  /** Position of the first new token (default: the cache length). Ignored when positionIds is given. */
  positionOffset?: number;
  /** (B, T) integer positions per row (left-padded generation counts from each row's first real token). */
  positionIds?: Tensor;
  /** Compute logits only for the last n positions (generation needs 1); default all. */
  logitsToKeep?: number;
}

/** What a forward pass returns. */
export interface CausalLmOutput {
  /** (B, T, V), or (B, logitsToKeep, V). */
  logits: Tensor;
  /** The mean next-token cross-entropy over non-ignored labels (f32), when labels were given. */
  loss?: Tensor;
}

/** Per-call state every decoder layer sees. */
interface LayerContext {
  rotary: PositionRotary;
  /** Padding mask of full-attention layers. */
  mask: Tensor | undefined;
  /** Padding and sliding-window mask of windowed layers (the padding mask when the window covers every position). */
  windowMask: Tensor | undefined;
  cache: KVCache | undefined;
  positionOffset: number;
}

/** One transformer block: pre-norm attention and pre-norm SwiGLU MLP, each around a residual (LlamaDecoderLayer). */
export class LlamaDecoderLayer extends Module {
  readonly self_attn: Attention;
  readonly mlp: GatedMlp;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;

  constructor(
    readonly config: LlamaConfig,
    readonly layerIndex: number,
    opts: LlamaInitOptions,
  ) {
    super();
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator, skipInit: true };
    this.self_attn = this.child(
      'self_attn',
      new Attention(
        {
          hiddenSize: config.hiddenSize,
          numHeads: config.numAttentionHeads,
          numKvHeads: config.numKeyValueHeads,
          headDim: config.headDim,
          qkvBias: config.qkvBias,
          outBias: config.oBias,
          qkNormEps: config.qkNorm ? config.rmsNormEps : undefined,
        },
        o,
      ),
    );
    this.mlp = this.child('mlp', new GatedMlp(config.hiddenSize, config.intermediateSize, config.hiddenAct, { ...o, bias: config.mlpBias }));
    this.input_layernorm = this.child('input_layernorm', new RMSNorm(config.hiddenSize, config.rmsNormEps, o));
    this.post_attention_layernorm = this.child('post_attention_layernorm', new RMSNorm(config.hiddenSize, config.rmsNormEps, o));
  }

  /** Whether this layer attends within the sliding window (Mistral: every layer; Qwen2/3: from max_window_layers on). */
  get windowed(): boolean {
    return this.config.slidingWindow !== null && this.layerIndex >= this.config.maxWindowLayers;
  }

  /** (B, T, hidden) -> (B, T, hidden) */
  forward(h: Tensor, ctx: LayerContext): Tensor {
    const attn = this.self_attn.forward(this.input_layernorm.forward(h), {
      rotary: ctx.rotary,
      cache: ctx.cache,
      layerIndex: this.layerIndex,
      mask: this.windowed ? ctx.windowMask : ctx.mask,
      positionOffset: ctx.positionOffset,
    });
    const mid = add(h, attn);
    return add(mid, this.mlp.forward(this.post_attention_layernorm.forward(mid)));
  }
}

/** A numbered list of child modules (PyTorch's ModuleList): names them 0, 1, ... */
class LayerList<M extends Module> extends Module {
  constructor(items: M[]) {
    super();
    items.forEach((m, i) => this.child(i, m));
  }

  /** The layers in order; read from the children so `replaceChild('3', ...)` takes effect. */
  get items(): M[] {
    return this.namedChildren().map(([, m]) => m as M);
  }
}

/** The decoder stack without the output head (LlamaModel): embed_tokens, layers, norm. */
export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: LayerList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;

  constructor(
    readonly config: LlamaConfig,
    opts: LlamaInitOptions,
  ) {
    super();
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator, skipInit: true };
    this.embed_tokens = this.child('embed_tokens', new Embedding(config.vocabSize, config.hiddenSize, o));
    this.layers = this.child('layers', new LayerList(Array.from({ length: config.numHiddenLayers }, (_, i) => new LlamaDecoderLayer(config, i, opts))));
    this.norm = this.child('norm', new RMSNorm(config.hiddenSize, config.rmsNormEps, o));
  }

  /** Embeds ids; like torch's Embedding(padding_idx=pad_token_id), the pad row gets no gradient. */
  embed(ids: Tensor): Tensor {
    const e = this.embed_tokens.forward(ids); // (B, T, C)
    const pad = this.config.padTokenId;
    // The table that trains is the module's own parameter (TiedEmbeddingCopy's `weight` is the frozen head table; LoRA trains adapters).
    if (pad === null || !isGradEnabled() || !this.embed_tokens.parameters().some((p) => p.requiresGrad)) return e;
    return where(reshape(ne(ids, pad), [...ids.shape, 1]), e, detach(e));
  }
}

/** Llama, Mistral, Qwen2 and Qwen3 decoders with a language-model head, under Hugging Face's parameter names. */
export class LlamaForCausalLM extends Module {
  readonly model: LlamaModel;
  /** The output projection; null when tied to model.embed_tokens.weight (tie_word_embeddings). */
  readonly lm_head: Linear | null;
  /** Recompute each layer's activations during backward instead of keeping them (less memory, ~1/3 more compute). */
  gradientCheckpointing = false;

  constructor(
    readonly config: LlamaConfig,
    opts: LlamaInitOptions = {},
  ) {
    super();
    const generator = opts.generator ?? new Generator(0);
    // Layers are built zero-filled; initWeights draws HF's init once (nn's own init would draw twice).
    const o = { ...opts, generator };
    this.model = this.child('model', new LlamaModel(config, o));
    this.lm_head = config.tieWordEmbeddings
      ? null
      : this.child('lm_head', new Linear(config.hiddenSize, config.vocabSize, { dtype: opts.dtype, device: opts.device, generator, bias: false, skipInit: true }));
    if (opts.init ?? true) this.initWeights(generator);
  }

  /** The parameter dtype. */
  get dtype(): DType {
    return this.model.embed_tokens.weight.dtype;
  }

  /** Generates continuations with a KV cache (greedy or sampled; see `generateStream` for the options). */
  generate(inputIds: Tensor | number[] | number[][], opts: GenerateOptions = {}): Promise<GenerateResult> {
    return generateFrom(this, inputIds, opts);
  }

  /** The backend holding the parameters. */
  get device(): string {
    return this.model.embed_tokens.weight.device;
  }

  /** Hugging Face's `_init_weights`: Linear and Embedding weights ~ N(0, initializer_range), biases 0, norms 1, the pad row 0. */
  initWeights(generator: Generator): void {
    const std = this.config.initializerRange;
    const pad = this.config.padTokenId;
    for (const [name, p] of this.namedParameters()) {
      const next = tidy(() => {
        if (name.endsWith('norm.weight')) return full(p.shape, 1, { dtype: p.dtype, device: p.device });
        if (name.endsWith('.bias')) return full(p.shape, 0, { dtype: p.dtype, device: p.device });
        let w = randn(p.shape, { generator, device: p.device }).mul(std);
        if (name === 'model.embed_tokens.weight' && pad !== null && pad < p.shape[0]!) {
          const rows = reshape(arange(0, p.shape[0]!, 1, { device: p.device }), [p.shape[0]!, 1]);
          w = where(eq(rows, pad), 0, w);
        }
        return cast(w, p.dtype);
      });
      p.assign(next);
      next.dispose();
    }
  }

  /** Token ids (B, T) -> logits (B, T, V), and the shifted causal LM loss when labels are given. */
  forward(inputIds: Tensor, opts: LlamaForwardOptions = {}): CausalLmOutput {
    const c = this.config;
    if (inputIds.rank !== 2) throw new RangeError(`LlamaForCausalLM: inputIds must be (B, T) integer ids, got ${fmtShape(inputIds.shape)}; add a batch dim with reshape([1, -1])`);
    if (inputIds.dtype !== 'i32' && inputIds.dtype !== 'u32') throw new TypeError(`LlamaForCausalLM: inputIds must be i32 token ids, got ${inputIds.dtype}; cast them with .cast('i32')`);
    const [b, t] = inputIds.shape as [number, number];
    const past = opts.cache?.length ?? 0;
    const total = past + t;
    const offset = opts.positionOffset ?? past;
    const positions = opts.positionIds ?? reshape(arange(offset, offset + t, 1, { device: inputIds.device }), [1, t]);
    if (positions.rank !== 2 || positions.shape[1] !== t || (positions.shape[0] !== b && positions.shape[0] !== 1)) {
      throw new RangeError(`LlamaForCausalLM: positionIds ${fmtShape(positions.shape)} must be (B, T) = [${b},${t}]`);
    }
    const rotary = new PositionRotary(c.headDim, c.ropeTheta, c.ropeScaling, positions, this.dtype);
    const mask = opts.attentionMask ? paddingMask(opts.attentionMask, b, t, total) : undefined;
    // The KV cache keeps every position (positions count from its length); the window is a mask.
    const window = c.slidingWindow;
    const windowMask = window !== null && total > window ? slidingWindowMask(t, total, window, inputIds.device, mask) : mask;
    const ctx: LayerContext = { rotary, mask, windowMask, cache: opts.cache, positionOffset: offset };

    let h = this.model.embed(inputIds); // (B, T, C)
    for (const layer of this.model.layers.items) {
      h = this.gradientCheckpointing && isGradEnabled() ? checkpoint((x) => layer.forward(x, ctx), h) : layer.forward(h, ctx);
    }
    h = this.model.norm.forward(h);
    const keep = opts.logitsToKeep;
    if (keep !== undefined && keep > 0 && keep < t) h = h.slice(1, t - keep, t);
    const logits = this.lm_head ? this.lm_head.forward(h) : matmul(h, transpose(this.model.embed_tokens.weight)); // (B, T, V)
    if (!opts.labels) return { logits };
    if (keep !== undefined && keep > 0 && keep < t) throw new Error('LlamaForCausalLM: labels need logits for every position; drop logitsToKeep when computing the loss');
    // Hugging Face upcasts logits to f32 for the loss.
    return { logits, loss: causalLmLoss(logits.dtype === 'f32' ? logits : cast(logits, 'f32'), opts.labels) };
  }
}

/**
 * The bool attention mask (B, 1, T, S) for a padding mask (B, S) or a per-query mask (B, T, S): key j
 * is visible when the mask says so. Each query also sees itself, so a padding query never has every key masked: its
 * (unused) output stays finite instead of NaN, and NaN cannot leak into real rows through 0 * NaN.
 */
export function paddingMask(attentionMask: Tensor, b: number, t: number, s: number): Tensor {
  const perQuery = attentionMask.rank === 3 && attentionMask.shape[0] === b && attentionMask.shape[1] === t && attentionMask.shape[2] === s;
  if (!perQuery && (attentionMask.rank !== 2 || attentionMask.shape[0] !== b || attentionMask.shape[1] !== s)) {
    throw new RangeError(
      `LlamaForCausalLM: attentionMask ${fmtShape(attentionMask.shape)} must be (B, S) = [${b},${s}] (batch, cached + new positions) with 1 for tokens and 0 for padding, or (B, T, S) = [${b},${t},${s}] with 1 where a query may see a key`,
    );
  }
  const keys = reshape(ne(attentionMask, 0), perQuery ? [b, 1, t, s] : [b, 1, 1, s]);
  const i = reshape(arange(0, t, 1, { device: attentionMask.device }), [1, 1, t, 1]);
  const j = reshape(arange(0, s, 1, { device: attentionMask.device }), [1, 1, 1, s]);
  const self = eq(j, add(i, s - t)); // (1, 1, T, S)
  return where(self, self, keys);
}

/**
 * The bool mask (1, 1, T, S), or (B, 1, T, S) with a padding mask, of sliding-window attention as
 * Hugging Face's eager path builds it: query i (at key index i + S - T, after the cache) sees key j
 * only when i + S - T - j < window; causality (j <= i + S - T) is the attention op's own mask.
 */
export function slidingWindowMask(t: number, s: number, window: number, device: string, padding?: Tensor): Tensor {
  const i = reshape(arange(0, t, 1, { device }), [1, 1, t, 1]);
  const j = reshape(arange(0, s, 1, { device }), [1, 1, 1, s]);
  const near = lt(sub(add(i, s - t), j), window); // (1, 1, T, S)
  return padding ? where(near, padding, near) : near;
}
