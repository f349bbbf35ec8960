import type { Activation, Llama3RopeScaling } from '@tessera/nn';
import { ConfigFields, parseConfigJSON, type ConfigJSON } from './config-fields.js';

/** The `model_type` values the Llama implementation covers: they differ only in biases, qk-norm and defaults. */
export const LLAMA_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'qwen3'] as const;

/** One of `LLAMA_MODEL_TYPES`. */
export type LlamaModelType = (typeof LLAMA_MODEL_TYPES)[number];

const ACTIVATIONS: readonly Activation[] = ['silu', 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

/** A Llama-family config.json as typed fields (Hugging Face's names in camelCase). */
export interface LlamaConfig {
  modelType: LlamaModelType;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Llama 3 frequency scaling, or null for plain RoPE. */
  ropeScaling: Llama3RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** Bias on q_proj, k_proj, v_proj (Llama's attention_bias; always on for Qwen2). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama's attention_bias; never for Qwen2/3). */
  oBias: boolean;
  /** Bias on gate/up/down projections (Llama's mlp_bias). */
  mlpBias: boolean;
  /** RMSNorm of queries and keys per head (Qwen3). */
  qkNorm: boolean;
  hiddenAct: Activation;
  maxPositionEmbeddings: number;
  /** Sliding-window attention: query i sees keys j with i - slidingWindow < j <= i (null: global attention). */
  slidingWindow: number | null;
  /** First layer that uses the window (Qwen2/3's max_window_layers; 0 for Mistral, where every layer does). */
  maxWindowLayers: number;
  initializerRange: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** The dtype the checkpoint was saved in ("float32", "bfloat16", ...), if stated. */
  torchDtype: string | null;
  /** The config.json object this came from (written back by saveModel with the typed fields over it). */
  raw: ConfigJSON;
}

function parseRopeScaling(f: ConfigFields): Llama3RopeScaling | null {
  const rs = f.object('rope_scaling');
  if (!rs) return null;
  const sf = new ConfigFields(rs, `${f.where} rope_scaling`);
  // transformers accepts the legacy key "type" as well as "rope_type".
  const type = sf.has('rope_type') ? sf.string('rope_type') : sf.string('type', 'default');
  if (type === 'default') return null;
  if (type !== 'llama3') {
    throw new RangeError(
      `${f.where}: rope_scaling.rope_type "${type}" is not supported; supported: "llama3" (Llama 3.1/3.2) or "default" (remove rope_scaling for plain RoPE)`,
    );
  }
  const scaling = {
    factor: sf.number('factor'),
    lowFreqFactor: sf.number('low_freq_factor'),
    highFreqFactor: sf.number('high_freq_factor'),
    originalMaxPositionEmbeddings: sf.positiveInt('original_max_position_embeddings'),
  };
  if (scaling.factor <= 0) throw new RangeError(`${f.where}: rope_scaling.factor must be positive, got ${scaling.factor}`);
  if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
    throw new RangeError(
      `${f.where}: rope_scaling.high_freq_factor (${scaling.highFreqFactor}) must be larger than low_freq_factor (${scaling.lowFreqFactor})`,
    );
  }
  return scaling;
}

/** Parses a Hugging Face config.json (text or object) of model_type llama, mistral, qwen2 or qwen3. */
export function parseLlamaConfig(source: string | ConfigJSON): LlamaConfig {
  const json = parseConfigJSON(source);
  const base = new ConfigFields(json);
  const modelType = base.oneOf('model_type', LLAMA_MODEL_TYPES);
  const f = new ConfigFields(json, `config.json (${modelType})`);
  const hiddenSize = f.positiveInt('hidden_size');
  const numAttentionHeads = f.positiveInt('num_attention_heads');
  const numKeyValueHeads = f.positiveInt('num_key_value_heads', numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new RangeError(
      `${f.where}: num_attention_heads (${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads}) for grouped-query attention`,
    );
  }
  // Qwen3's default head_dim is 128, independent of hidden_size; the others derive it.
  const derived = modelType === 'qwen3' ? 128 : hiddenSize / numAttentionHeads;
  if (!f.has('head_dim') && !Number.isInteger(derived)) {
    throw new RangeError(`${f.where}: hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numAttentionHeads}); set "head_dim" explicitly`);
  }
  const headDim = f.positiveInt('head_dim', derived);
  if (headDim % 2 !== 0) throw new RangeError(`${f.where}: head_dim must be even for rotary embeddings, got ${headDim}`);

  const attentionBias = f.boolean('attention_bias', false);
  const isQwen = modelType === 'qwen2' || modelType === 'qwen3';
  // Mistral windows every layer (MistralConfig's default sliding_window is 4096; null turns it off).
  // Qwen2/3 window only with use_sliding_window, and only layers from max_window_layers on
  // (transformers' layer_types rule).
  const useSliding = modelType === 'mistral' ? true : f.boolean('use_sliding_window', false);
  const window = !useSliding ? null : modelType === 'mistral' && json.sliding_window === undefined ? 4096 : f.has('sliding_window') ? f.positiveInt('sliding_window') : null;
  const maxWindowLayers = isQwen ? f.nonNegativeInt('max_window_layers', 28) : 0;
  return {
    modelType,
    vocabSize: f.positiveInt('vocab_size'),
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    numHiddenLayers: f.positiveInt('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: f.number('rms_norm_eps', 1e-6),
    ropeTheta: f.number('rope_theta', 10000),
    ropeScaling: parseRopeScaling(f),
    tieWordEmbeddings: f.boolean('tie_word_embeddings', false),
    qkvBias: modelType === 'qwen2' ? true : attentionBias,
    oBias: isQwen ? false : attentionBias,
    mlpBias: modelType === 'llama' ? f.boolean('mlp_bias', false) : false,
    qkNorm: modelType === 'qwen3',
    hiddenAct: f.oneOf('hidden_act', ACTIVATIONS, 'silu'),
    maxPositionEmbeddings: f.positiveInt('max_position_embeddings', 2048),
    slidingWindow: window,
    maxWindowLayers,
    initializerRange: f.number('initializer_range', 0.02),
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id'),
    padTokenId: f.tokenId('pad_token_id'),
    torchDtype: f.has('torch_dtype') ? f.string('torch_dtype') : f.has('dtype') ? f.string('dtype') : null,
    raw: json,
  };
}

/** The config.json object for a config: its original fields with the typed ones written over them. */
export function llamaConfigToJSON(c: LlamaConfig, overrides: ConfigJSON = {}): ConfigJSON {
  const out: ConfigJSON = {
    ...c.raw,
    architectures: [architectureOf(c.modelType)],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling
      ? {
          rope_type: 'llama3',
          factor: c.ropeScaling.factor,
          low_freq_factor: c.ropeScaling.lowFreqFactor,
          high_freq_factor: c.ropeScaling.highFreqFactor,
          original_max_position_embeddings: c.ropeScaling.originalMaxPositionEmbeddings,
        }
      : null,
    tie_word_embeddings: c.tieWordEmbeddings,
    hidden_act: c.hiddenAct,
    max_position_embeddings: c.maxPositionEmbeddings,
    initializer_range: c.initializerRange,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds.length ? c.eosTokenIds : null,
    pad_token_id: c.padTokenId,
  };
  if (c.modelType === 'llama') {
    out.attention_bias = c.qkvBias;
    out.mlp_bias = c.mlpBias;
  }
  if (c.modelType === 'qwen3') out.attention_bias = c.qkvBias;
  if (c.modelType === 'mistral') out.sliding_window = c.slidingWindow;
  else if (c.slidingWindow !== null) {
    out.use_sliding_window = true;
    out.sliding_window = c.slidingWindow;
    out.max_window_layers = c.maxWindowLayers;
  }
  if (c.torchDtype !== null) out.torch_dtype = c.torchDtype;
  return { ...out, ...overrides };
}

function architectureOf(t: LlamaModelType): string {
  return { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM' }[t];
}

/** A config from the fields you care about (the rest take Llama defaults): handy for tests and from-scratch models. */
export function llamaConfig(fields: Partial<LlamaConfig> & Pick<LlamaConfig, 'vocabSize' | 'hiddenSize' | 'intermediateSize' | 'numHiddenLayers' | 'numAttentionHeads'>): LlamaConfig {
  const modelType = fields.modelType ?? 'llama';
  const numKeyValueHeads = fields.numKeyValueHeads ?? fields.numAttentionHeads;
  const json: ConfigJSON = {
    model_type: modelType,
    vocab_size: fields.vocabSize,
    hidden_size: fields.hiddenSize,
    intermediate_size: fields.intermediateSize,
    num_hidden_layers: fields.numHiddenLayers,
    num_attention_heads: fields.numAttentionHeads,
    num_key_value_heads: numKeyValueHeads,
    head_dim: fields.headDim ?? fields.hiddenSize / fields.numAttentionHeads,
  };
  const parsed = parseLlamaConfig(json);
  const merged = { ...parsed, ...fields, raw: {} };
  return { ...merged, raw: llamaConfigToJSON(merged) };
}
