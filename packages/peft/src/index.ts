/**
 * @tessera/peft — adapters compatible with Hugging Face PEFT: LoRA, rsLoRA, DoRA and embedding
 * LoRA on layers chosen by name, several named adapters per model, merge/unmerge.
 */
export { AdapterModules, AdapterParams } from './adapter-dict.js';
export { adapterFiles, loadAdapterFiles, parseAdapterConfig, peftKey } from './adapter-files.js';
export { adapterParamOf, inSavedModule, type AdapterParamPath, type AdapterTensorKind } from './adapter-names.js';
export { configDifference, fromPeftJson, loraConfig, loraScaling, rankAndAlpha, toPeftJson, type BiasMode, type LoraConfig } from './lora-config.js';
export { LoraEmbedding, type LoraEmbeddingSettings } from './lora-embedding.js';
export { DoraMagnitude, LinearBase, LoraLinear, type BaseLinear, type LoraLayerSettings } from './lora-linear.js';
export { PeftModel, type TrainableCount } from './peft-model.js';
export { findTargets, isTargeted, type LayerKind } from './target-modules.js';
export { TiedEmbeddingCopy } from './tied-embedding.js';
export { Nf4Linear } from './nf4-linear.js';
export { dequantizeNf4, dynamicMap, nf4BlockScale, quantizeNf4, type Nf4Weight } from './nf4-quantize.js';
