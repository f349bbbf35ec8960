/**
 * @tessera/nn — modules with Hugging Face parameter names: Module, Linear, Embedding, LayerNorm,
 * RMSNorm, Dropout, rotary embedding (with Llama 3 scaling), attention with GQA and KV cache, MLPs, losses.
 */
export { Attention, type AttentionConfig, type AttentionContext } from './attention.js';
export { Dropout } from './dropout.js';
export { Embedding } from './embedding.js';
export { constant, normal, uniform, type InitOptions } from './init.js';
export { KVCache } from './kv-cache.js';
export { Linear } from './linear.js';
export { causalLmLoss, crossEntropy, mseLoss } from './losses.js';
export { GatedMlp, Mlp, activate, type Activation } from './mlp.js';
export { Module } from './module.js';
export { LayerNorm, RMSNorm } from './norms.js';
export { RotaryEmbedding, ropeInverseFrequencies, type Llama3RopeScaling } from './rotary-embedding.js';
