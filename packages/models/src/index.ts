/**
 * @tessera/models — Llama family (Llama 2/3, Mistral, Qwen2/3), GPT-2 and BERT with Hugging Face
 * parameter names; loading a Hugging Face model folder; generation; memory estimates.
 */
// Each model family adds its exports below, one block per family.
// Llama family (Llama 2/3, Mistral, Qwen2, Qwen3), shared config reading.
export { ConfigFields, parseConfigJSON, type ConfigJSON } from './config-fields.js';
export { LLAMA_MODEL_TYPES, llamaConfig, llamaConfigToJSON, parseLlamaConfig, type LlamaConfig, type LlamaModelType } from './llama-config.js';
export { LlamaDecoderLayer, LlamaForCausalLM, LlamaModel, paddingMask, type CausalLmOutput, type LlamaForwardOptions, type LlamaInitOptions } from './llama.js';
export { PositionRotary, f32InverseFrequencies } from './position-rotary.js';
export { generate, generateStream, type CausalLM, type FinishReason, type GenerateOptions, type GenerateResult, type TokenEvent } from './generate.js';
export {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmaxOf,
  sampleFrom,
  selectToken,
  softmaxOf,
  type SamplingOptions,
} from './logits-processors.js';
export { loadWeights, rawFromTensor, safetensorsDtypeOf, tensorFromRaw, type LoadTensorOptions, type RawTensor } from './load-weights.js';
export { loadModel, loadModelFromFiles, modelFromFiles, modelSafetensors, saveModel, type LoadModelOptions, type LoadedModel, type SaveModelOptions } from './load-model.js';
export { modelFilesFrom, readModelFolder, writeFileAtomic, type ModelFiles, type ModelFilesInput, type WeightEntry } from './model-folder.js';
export { parseGenerationConfig, type GenerationDefaults } from './generation-config.js';
// GPT-2 and BERT, their loader, and the memory estimator.
export { parseGPT2Config, type GPT2Config } from './gpt2-config.js';
export { GPT2Attention, GPT2Block, GPT2LMHeadModel, GPT2MLP, GPT2Model, type GPT2ForwardOptions, type GPT2InitOptions } from './gpt2.js';
export { Conv1D } from './conv1d.js';
export { ModuleList } from './module-list.js';
export { parseBertConfig, type BertConfig } from './bert-config.js';
export {
  BertAttention,
  BertDenseNorm,
  BertEmbeddings,
  BertEncoder,
  BertForSequenceClassification,
  BertForTokenClassification,
  BertIntermediate,
  BertLayer,
  BertModel,
  BertPooler,
  BertSelfAttention,
  type BertForwardOptions,
  type BertInitOptions,
  type ClassifierOutput,
} from './bert.js';
export { assignWeights, loadGPT2OrBert, type LoadedGPT2OrBert } from './load-gpt2-bert.js';
export { estimateMemory, type MemoryEstimate, type MemoryEstimateOptions } from './estimate-memory.js';
