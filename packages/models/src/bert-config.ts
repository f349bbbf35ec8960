import { ConfigFields, parseConfigJSON, type ConfigJSON } from './config-fields.js';

/** BERT hyperparameters read from a Hugging Face config.json (model_type bert). */
export interface BertConfig {
  modelType: 'bert';
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: 'gelu' | 'gelu_new' | 'relu' | 'silu';
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  initializerRange: number;
  padTokenId: number | null;
  /** Classes of the classification heads (num_labels, or the size of id2label; default 2). */
  numLabels: number;
}

/** Parses a BERT config.json (text or object) with errors naming the field and the fix. */
export function parseBertConfig(source: string | ConfigJSON): BertConfig {
  const json = parseConfigJSON(source);
  const f = new ConfigFields(json, 'config.json (bert)');
  if (json.model_type !== 'bert') throw new Error(`config.json: model_type ${JSON.stringify(json.model_type)} is not "bert"; use the parser of that family`);
  const hiddenSize = f.positiveInt('hidden_size');
  const heads = f.positiveInt('num_attention_heads');
  if (hiddenSize % heads !== 0) throw new RangeError(`config.json (bert): hidden_size ${hiddenSize} must be divisible by num_attention_heads ${heads}`);
  const pos = f.string('position_embedding_type', 'absolute');
  if (pos !== 'absolute') throw new Error(`config.json (bert): position_embedding_type "${pos}" is not supported; only "absolute"`);
  const id2label = f.object('id2label');
  return {
    modelType: 'bert',
    vocabSize: f.positiveInt('vocab_size'),
    hiddenSize,
    numHiddenLayers: f.positiveInt('num_hidden_layers'),
    numAttentionHeads: heads,
    intermediateSize: f.positiveInt('intermediate_size'),
    hiddenAct: f.oneOf('hidden_act', ['gelu', 'gelu_new', 'relu', 'silu'] as const, 'gelu'),
    maxPositionEmbeddings: f.positiveInt('max_position_embeddings', 512),
    typeVocabSize: f.positiveInt('type_vocab_size', 2),
    layerNormEps: f.number('layer_norm_eps', 1e-12),
    initializerRange: f.number('initializer_range', 0.02),
    padTokenId: f.tokenId('pad_token_id'),
    numLabels: f.positiveInt('num_labels', id2label ? Object.keys(id2label).length : 2),
  };
}
