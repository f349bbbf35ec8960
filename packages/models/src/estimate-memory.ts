import { dtypeBytes, type DType } from '@tessera/tensor';
import type { GPT2Config } from './gpt2-config.js';
import type { LlamaConfig } from './llama-config.js';

/** What to estimate: parameter dtype, optional LoRA, batch shape, optimizer and checkpointing. */
export interface MemoryEstimateOptions {
  dtype: DType;
  /** LoRA adapters of rank r on the named projections (q_proj, v_proj, c_attn, ...); the base stays frozen. */
  lora?: { r: number; targetModules: readonly string[] };
  batch: number;
  seq: number;
  /** AdamW keeps two f32 moments per trainable parameter; omit for inference-style estimates (no optimizer state). */
  optimizer?: 'adamw';
  gradientCheckpointing?: boolean;
}

/** Parameter counts and bytes of one training step's memory. */
export interface MemoryEstimate {
  parameters: { total: number; trainable: number };
  bytes: { weights: number; gradients: number; optimizer: number; activations: number; total: number };
  /** True when the total fits in `deviceBytes`. */
  fits(deviceBytes: number): boolean;
}

interface Projection {
  name: string;
  inFeatures: number;
  outFeatures: number;
}

interface Shape {
  vocab: number;
  hidden: number;
  inner: number;
  layers: number;
  heads: number;
  /** Parameters outside the layers (embeddings, final norm, untied head). */
  outer: number;
  /** Parameters of one layer that are not projection weights (biases, norms). */
  layerExtra: number;
  projections: Projection[];
}

function shapeOf(config: LlamaConfig | GPT2Config): Shape {
  if ('nEmbd' in config) {
    const h = config.nEmbd;
    const i = config.nInner;
    return {
      vocab: config.vocabSize,
      hidden: h,
      inner: i,
      layers: config.nLayer,
      heads: config.nHead,
      outer: config.vocabSize * h + config.nPositions * h + 2 * h, // wte (tied head), wpe, ln_f
      layerExtra: 3 * h + h + i + h + 4 * h, // c_attn, c_proj, c_fc, mlp c_proj biases; ln_1, ln_2
      projections: [
        { name: 'c_attn', inFeatures: h, outFeatures: 3 * h },
        { name: 'c_proj', inFeatures: h, outFeatures: h },
        { name: 'c_fc', inFeatures: h, outFeatures: i },
        { name: 'c_proj', inFeatures: i, outFeatures: h },
      ],
    };
  }
  const h = config.hiddenSize;
  const i = config.intermediateSize;
  const q = config.numAttentionHeads * config.headDim;
  const kv = config.numKeyValueHeads * config.headDim;
  return {
    vocab: config.vocabSize,
    hidden: h,
    inner: i,
    layers: config.numHiddenLayers,
    heads: config.numAttentionHeads,
    outer: config.vocabSize * h * (config.tieWordEmbeddings ? 1 : 2) + h,
    layerExtra: 2 * h + (config.qkvBias ? q + 2 * kv : 0) + (config.oBias ? h : 0) + (config.mlpBias ? 2 * i + h : 0) + (config.qkNorm ? 2 * config.headDim : 0),
    projections: [
      { name: 'q_proj', inFeatures: h, outFeatures: q },
      { name: 'k_proj', inFeatures: h, outFeatures: kv },
      { name: 'v_proj', inFeatures: h, outFeatures: kv },
      { name: 'o_proj', inFeatures: q, outFeatures: h },
      { name: 'gate_proj', inFeatures: h, outFeatures: i },
      { name: 'up_proj', inFeatures: h, outFeatures: i },
      { name: 'down_proj', inFeatures: i, outFeatures: h },
    ],
  };
}

/**
 * Estimates parameters and training memory of a Llama-family or GPT-2 model from its parsed config.
 *
 * Activations (elements kept for backward, in the parameter dtype) per layer are approximated as
 * B·T·(8·hidden + 3·inner) for the norms, projections and MLP inputs/outputs, plus 2·B·heads·T²
 * for attention scores and probabilities; the head adds B·T·vocab f32 logits twice (logits and
 * their softmax). With gradient checkpointing each layer keeps only its input (B·T·hidden), and one
 * layer's full activations are live during its recomputation. Temporary workspace and allocator
 * fragmentation are not counted: leave headroom.
 */
export function estimateMemory(config: LlamaConfig | GPT2Config, opts: MemoryEstimateOptions): MemoryEstimate {
  const s = shapeOf(config);
  const { batch: b, seq: t } = opts;
  if (!Number.isInteger(b) || b <= 0 || !Number.isInteger(t) || t <= 0) throw new RangeError(`estimateMemory: batch ${b} and seq ${t} must be positive integers`);
  const perLayer = s.projections.reduce((n, p) => n + p.inFeatures * p.outFeatures, 0) + s.layerExtra;
  const total = s.outer + s.layers * perLayer;
  let trainable = total;
  if (opts.lora) {
    const { r, targetModules } = opts.lora;
    if (!Number.isInteger(r) || r <= 0) throw new RangeError(`estimateMemory: lora.r must be a positive integer, got ${r}`);
    const known = new Set(s.projections.map((p) => p.name));
    const unknown = targetModules.filter((m) => !known.has(m));
    if (unknown.length) throw new Error(`estimateMemory: lora.targetModules ${JSON.stringify(unknown)} are not projections of this model; use some of ${[...known].join(', ')}`);
    trainable = s.layers * s.projections.filter((p) => targetModules.includes(p.name)).reduce((n, p) => n + r * (p.inFeatures + p.outFeatures), 0);
  }
  const size = dtypeBytes(opts.dtype);
  const allParams = opts.lora ? total + trainable : total;
  const weights = allParams * size;
  const gradients = trainable * size;
  const optimizer = opts.optimizer === 'adamw' ? trainable * 2 * 4 : 0;
  const layerActs = b * t * (8 * s.hidden + 3 * s.inner) + 2 * b * s.heads * t * t;
  const layersActs = opts.gradientCheckpointing ? s.layers * b * t * s.hidden + layerActs : s.layers * layerActs;
  const activations = layersActs * size + 2 * b * t * s.vocab * 4;
  const sum = weights + gradients + optimizer + activations;
  return {
    parameters: { total: allParams, trainable },
    bytes: { weights, gradients, optimizer, activations, total: sum },
    fits: (deviceBytes: number) => sum <= deviceBytes,
  };
}
