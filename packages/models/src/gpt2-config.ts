import { ConfigFields, parseConfigJSON, type ConfigJSON } from './config-fields.js';

/** GPT-2 hyperparameters read from a Hugging Face config.json (model_type gpt2). */
export interface GPT2Config {
  modelType: 'gpt2';
  vocabSize: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nPositions: number;
  /** MLP width (n_inner, default 4 * n_embd). */
  nInner: number;
  layerNormEpsilon: number;
  activationFunction: 'gelu_new' | 'gelu' | 'gelu_pytorch_tanh' | 'relu';
  initializerRange: number;
  /** GPT-2 always ties lm_head to wte; kept for the memory estimator. */
  tieWordEmbeddings: true;
  bosTokenId: number | null;
  /** End-of-text ids (generate stops on them). */
  eosTokenIds: number[];
  padTokenId: number | null;
}

/** Parses a GPT-2 config.json (text or object) with errors naming the field and the fix. */
export function parseGPT2Config(source: string | ConfigJSON): GPT2Config {
  const json = parseConfigJSON(source);
  const f = new ConfigFields(json, 'config.json (gpt2)');
  if (json.model_type !== 'gpt2') throw new Error(`config.json: model_type ${JSON.stringify(json.model_type)} is not "gpt2"; use the parser of that family`);
  const nEmbd = f.positiveInt('n_embd');
  const nHead = f.positiveInt('n_head');
  if (nEmbd % nHead !== 0) throw new RangeError(`config.json (gpt2): n_embd ${nEmbd} must be divisible by n_head ${nHead}`);
  if (json.tie_word_embeddings === false) throw new Error('config.json (gpt2): tie_word_embeddings false is not supported; GPT2LMHeadModel ties lm_head to transformer.wte');
  if (json.scale_attn_by_inverse_layer_idx === true || json.reorder_and_upcast_attn === true) {
    throw new Error('config.json (gpt2): scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported; set them false');
  }
  return {
    modelType: 'gpt2',
    vocabSize: f.positiveInt('vocab_size'),
    nEmbd,
    nLayer: f.positiveInt('n_layer'),
    nHead,
    nPositions: f.positiveInt('n_positions', 1024),
    nInner: f.has('n_inner') ? f.positiveInt('n_inner') : 4 * nEmbd,
    layerNormEpsilon: f.number('layer_norm_epsilon', 1e-5),
    activationFunction: f.oneOf('activation_function', ['gelu_new', 'gelu', 'gelu_pytorch_tanh', 'relu'] as const, 'gelu_new'),
    initializerRange: f.number('initializer_range', 0.02),
    tieWordEmbeddings: true,
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id'),
    padTokenId: f.tokenId('pad_token_id'),
  };
}
