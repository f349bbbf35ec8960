import { Embedding, LayerNorm, Linear, Module, activate } from '@tessera/nn';
import {
  Generator,
  add,
  arange,
  cast,
  crossEntropy,
  detach,
  fmtShape,
  full,
  isGradEnabled,
  ne,
  randn,
  reshape,
  scaledDotProductAttention,
  tanh,
  tidy,
  transpose,
  where,
  zeros,
  type DType,
  type Tensor,
} from '@tessera/tensor';
import type { BertConfig } from './bert-config.js';
import type { LlamaInitOptions } from './llama.js';
import { ModuleList } from './module-list.js';

/** Where a BERT's parameters live and how they start (same options as the Llama family). */
export type BertInitOptions = LlamaInitOptions;

/** Inputs of a BERT forward pass besides the token ids. */
export interface BertForwardOptions {
  /** (B, T) 1 for tokens, 0 for padding. */
  attentionMask?: Tensor;
  /** (B, T) segment ids (default all 0). */
  tokenTypeIds?: Tensor;
  /** Sequence classification: (B) class ids; token classification: (B, T) with -100 ignored. */
  labels?: Tensor;
}

/** What a classification head returns. */
export interface ClassifierOutput {
  logits: Tensor;
  /** Mean cross-entropy over labels that are not -100 (when labels were given). */
  loss?: Tensor;
}

type Opts = { dtype?: DType; device?: string; skipInit: true };

/** word + position + token_type embeddings, then LayerNorm (BertEmbeddings). */
export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;

  constructor(readonly config: BertConfig, o: Opts) {
    super();
    this.word_embeddings = this.child('word_embeddings', new Embedding(config.vocabSize, config.hiddenSize, o));
    this.position_embeddings = this.child('position_embeddings', new Embedding(config.maxPositionEmbeddings, config.hiddenSize, o));
    this.token_type_embeddings = this.child('token_type_embeddings', new Embedding(config.typeVocabSize, config.hiddenSize, o));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps, o));
  }

  /** ids (B, T) -> (B, T, hidden) */
  forward(ids: Tensor, tokenTypeIds: Tensor | undefined): Tensor {
    const [b, t] = ids.shape as [number, number];
    let words = this.word_embeddings.forward(ids);
    // torch's Embedding(padding_idx=pad_token_id): the pad row gets no gradient.
    const pad = this.config.padTokenId;
    if (pad !== null && isGradEnabled() && this.word_embeddings.weight.requiresGrad) words = where(reshape(ne(ids, pad), [b, t, 1]), words, detach(words));
    const types = tokenTypeIds ?? zeros([b, t], { dtype: 'i32', device: ids.device });
    const positions = reshape(arange(0, t, 1, { device: ids.device }), [1, t]);
    const e = add(add(words, this.token_type_embeddings.forward(types)), this.position_embeddings.forward(positions));
    return this.LayerNorm.forward(e);
  }
}

/** query/key/value projections and bidirectional attention (BertSelfAttention). */
export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;

  constructor(readonly config: BertConfig, o: Opts) {
    super();
    const h = config.hiddenSize;
    this.query = this.child('query', new Linear(h, h, o));
    this.key = this.child('key', new Linear(h, h, o));
    this.value = this.child('value', new Linear(h, h, o));
  }

  /** (B, T, C) with a bool mask (B, 1, 1, T) -> (B, T, C) */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const [b, t, c] = x.shape as [number, number, number];
    const n = this.config.numAttentionHeads;
    const heads = (l: Linear): Tensor => transpose(reshape(l.forward(x), [b, t, n, c / n]), 1, 2);
    const out = scaledDotProductAttention(heads(this.query), heads(this.key), heads(this.value), mask, { causal: false });
    return reshape(transpose(out, 1, 2), [b, t, c]);
  }
}

/** dense, then LayerNorm(dense(x) + residual) (BertSelfOutput and BertOutput). */
export class BertDenseNorm extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;

  constructor(readonly config: BertConfig, inFeatures: number, o: Opts) {
    super();
    this.dense = this.child('dense', new Linear(inFeatures, config.hiddenSize, o));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps, o));
  }

  /** (B, T, in), residual (B, T, C) -> (B, T, C) */
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dense.forward(x), residual));
  }
}

/** attention.self and attention.output (BertAttention). */
export class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertDenseNorm;

  constructor(config: BertConfig, o: Opts) {
    super();
    this.self = this.child('self', new BertSelfAttention(config, o));
    this.output = this.child('output', new BertDenseNorm(config, config.hiddenSize, o));
  }

  /** (B, T, C) -> (B, T, C) */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

/** The expansion dense layer and activation (BertIntermediate). */
export class BertIntermediate extends Module {
  readonly dense: Linear;

  constructor(readonly config: BertConfig, o: Opts) {
    super();
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.intermediateSize, o));
  }

  /** (B, T, C) -> (B, T, intermediate); "gelu" is the exact erf form, as in HF. */
  forward(x: Tensor): Tensor {
    return activate(this.dense.forward(x), this.config.hiddenAct);
  }
}

/** One post-norm encoder layer (BertLayer). */
export class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertDenseNorm;

  constructor(config: BertConfig, o: Opts) {
    super();
    this.attention = this.child('attention', new BertAttention(config, o));
    this.intermediate = this.child('intermediate', new BertIntermediate(config, o));
    this.output = this.child('output', new BertDenseNorm(config, config.intermediateSize, o));
  }

  /** (B, T, C) -> (B, T, C) */
  forward(x: Tensor, mask: Tensor | undefined): Tensor {
    const a = this.attention.forward(x, mask);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

/** The stack of encoder layers (BertEncoder: `layer.{i}`). */
export class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;

  constructor(config: BertConfig, o: Opts) {
    super();
    this.layer = this.child('layer', new ModuleList(Array.from({ length: config.numHiddenLayers }, () => new BertLayer(config, o))));
  }
}

/** tanh(dense(first token)) (BertPooler). */
export class BertPooler extends Module {
  readonly dense: Linear;

  constructor(config: BertConfig, o: Opts) {
    super();
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.hiddenSize, o));
  }

  /** (B, T, C) -> (B, C) */
  forward(h: Tensor): Tensor {
    const [b, , c] = h.shape as [number, number, number];
    return tanh(this.dense.forward(reshape(h.slice(1, 0, 1), [b, c])));
  }
}

/** HF's BERT init on every parameter under `root`: Linear/Embedding weights ~ N(0, initializer_range), biases 0, LayerNorms 1, the pad row 0. */
function initBert(root: Module, config: BertConfig, generator: Generator): void {
  for (const [name, p] of root.namedParameters()) {
    const next = tidy(() => {
      if (name.endsWith('LayerNorm.weight')) return full(p.shape, 1, { dtype: p.dtype, device: p.device });
      if (name.endsWith('.bias')) return full(p.shape, 0, { dtype: p.dtype, device: p.device });
      let w = randn(p.shape, { generator, device: p.device }).mul(config.initializerRange);
      const pad = config.padTokenId;
      if (name.endsWith('word_embeddings.weight') && pad !== null && pad < p.shape[0]!) {
        w = where(reshape(ne(arange(0, p.shape[0]!, 1, { device: p.device }), pad), [p.shape[0]!, 1]), w, 0);
      }
      return cast(w, p.dtype);
    });
    p.assign(next);
    next.dispose();
  }
}

/** The BERT encoder (BertModel): embeddings, encoder, optional pooler; HF names without the `bert.` prefix. */
export class BertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;

  constructor(readonly config: BertConfig, opts: BertInitOptions & { addPoolingLayer?: boolean } = {}) {
    super();
    const o: Opts = { dtype: opts.dtype, device: opts.device, skipInit: true };
    this.embeddings = this.child('embeddings', new BertEmbeddings(config, o));
    this.encoder = this.child('encoder', new BertEncoder(config, o));
    this.pooler = opts.addPoolingLayer === false ? null : this.child('pooler', new BertPooler(config, o));
    if (opts.init ?? true) initBert(this, config, opts.generator ?? new Generator(0));
  }

  /** ids (B, T) -> the last hidden states (B, T, C) and the pooled first token (B, C) (null without a pooler). */
  forward(inputIds: Tensor, opts: BertForwardOptions = {}): { lastHiddenState: Tensor; pooled: Tensor | null } {
    if (inputIds.rank !== 2) throw new RangeError(`BertModel: inputIds must be (B, T) integer ids, got ${fmtShape(inputIds.shape)}; add a batch dim with reshape([1, -1])`);
    if (inputIds.dtype !== 'i32' && inputIds.dtype !== 'u32') throw new TypeError(`BertModel: inputIds must be i32 token ids, got ${inputIds.dtype}; cast them with .cast('i32')`);
    const [b, t] = inputIds.shape as [number, number];
    if (t > this.config.maxPositionEmbeddings) throw new RangeError(`BertModel: ${t} tokens exceed max_position_embeddings ${this.config.maxPositionEmbeddings}; truncate the input`);
    const m = opts.attentionMask;
    if (m && (m.rank !== 2 || m.shape[0] !== b || m.shape[1] !== t)) throw new RangeError(`BertModel: attentionMask ${fmtShape(m.shape)} must be (B, T) = [${b},${t}] with 1 for tokens and 0 for padding`);
    // Keys only: every query sees all real keys (a padding query too, so its row never goes all -inf).
    const mask = m ? reshape(ne(m, 0), [b, 1, 1, t]) : undefined;
    let h = this.embeddings.forward(inputIds, opts.tokenTypeIds);
    for (const layer of this.encoder.layer.items) h = layer.forward(h, mask);
    return { lastHiddenState: h, pooled: this.pooler ? this.pooler.forward(h) : null };
  }
}

function classifierLoss(logits: Tensor, labels: Tensor, what: string): Tensor {
  const n = logits.shape[logits.rank - 1]!;
  const rows = logits.shape.slice(0, -1);
  if (labels.rank !== rows.length || labels.shape.some((d, i) => d !== rows[i])) {
    throw new RangeError(`${what}: labels ${fmtShape(labels.shape)} must be ${fmtShape(rows)} class ids (-100 to ignore)`);
  }
  const count = rows.reduce((a, d) => a * d, 1);
  const f = logits.dtype === 'f32' ? logits : cast(logits, 'f32');
  return crossEntropy(reshape(f, [count, n]), reshape(cast(labels, 'i32'), [count]));
}

/** BERT with a linear classifier on the pooled [CLS] output: logits (B, num_labels). */
export class BertForSequenceClassification extends Module {
  readonly bert: BertModel;
  readonly classifier: Linear;

  constructor(readonly config: BertConfig, opts: BertInitOptions = {}) {
    super();
    const generator = opts.generator ?? new Generator(0);
    this.bert = this.child('bert', new BertModel(config, { ...opts, init: false }));
    this.classifier = this.child('classifier', new Linear(config.hiddenSize, config.numLabels, { dtype: opts.dtype, device: opts.device, skipInit: true }));
    if (opts.init ?? true) initBert(this, config, generator);
  }

  /** ids (B, T) -> logits (B, num_labels), and the cross-entropy when labels (B) are given. */
  forward(inputIds: Tensor, opts: BertForwardOptions = {}): ClassifierOutput {
    const logits = this.classifier.forward(this.bert.forward(inputIds, opts).pooled!);
    return opts.labels ? { logits, loss: classifierLoss(logits, opts.labels, 'BertForSequenceClassification') } : { logits };
  }
}

/** BERT with a linear classifier on every token (no pooler, as HF builds it): logits (B, T, num_labels). */
export class BertForTokenClassification extends Module {
  readonly bert: BertModel;
  readonly classifier: Linear;

  constructor(readonly config: BertConfig, opts: BertInitOptions = {}) {
    super();
    const generator = opts.generator ?? new Generator(0);
    this.bert = this.child('bert', new BertModel(config, { ...opts, init: false, addPoolingLayer: false }));
    this.classifier = this.child('classifier', new Linear(config.hiddenSize, config.numLabels, { dtype: opts.dtype, device: opts.device, skipInit: true }));
    if (opts.init ?? true) initBert(this, config, generator);
  }

  /** ids (B, T) -> logits (B, T, num_labels), and the cross-entropy over labels (B, T) that are not -100. */
  forward(inputIds: Tensor, opts: BertForwardOptions = {}): ClassifierOutput {
    const logits = this.classifier.forward(this.bert.forward(inputIds, opts).lastHiddenState);
    return opts.labels ? { logits, loss: classifierLoss(logits, opts.labels, 'BertForTokenClassification') } : { logits };
  }
}
