import { serializeSafetensors, type Dtype } from '@tessera/safetensors';
import { cast, isTensor, type DType, type Tensor } from '@tessera/tensor';
import type { Tokenizer } from '@tessera/tokenizers';
import type { ConfigJSON } from './config-fields.js';
import { parseGenerationConfig, type GenerationDefaults } from './generation-config.js';
import { LLAMA_MODEL_TYPES, llamaConfigToJSON, parseLlamaConfig, type LlamaConfig } from './llama-config.js';
import { LlamaForCausalLM } from './llama.js';
import { rawFromTensor, safetensorsDtypeOf, tensorFromRaw, type RawTensor } from './load-weights.js';
import { modelFilesFrom, readModelFolder, writeFileAtomic, type ModelFiles, type ModelFilesInput, type WeightEntry } from './model-folder.js';

/** Where a loaded model's parameters go. */
export interface LoadModelOptions {
  /** Parameter dtype (default f32); 'bf16' keeps bf16 checkpoints in bf16 storage (half the memory). */
  dtype?: DType;
  /** Registered backend to load onto: 'cpu', 'webgpu', ... (default the current default backend). */
  backend?: string;
  /** Same as `backend` (the name tensors use). */
  device?: string;
}

/** The backend a load goes to: `backend` or its alias `device` (an error when they disagree). */
export function loadTarget(opts: { backend?: string; device?: string }, where: string): string | undefined {
  if (opts.backend !== undefined && opts.device !== undefined && opts.backend !== opts.device) {
    throw new Error(`${where}: backend "${opts.backend}" and device "${opts.device}" disagree; pass one of them`);
  }
  return opts.backend ?? opts.device;
}

/** A loaded model with its config, tokenizer (null without tokenizer.json) and generation defaults. */
export interface LoadedModel {
  model: LlamaForCausalLM;
  config: LlamaConfig;
  tokenizer: Tokenizer | null;
  /** generation_config.json as `generate` options ({} without the file): spread them under your own. */
  generationDefaults: GenerationDefaults;
  /** generation_config.json as read (saveModel writes it back when passed). */
  generationConfig: ConfigJSON | null;
}

// Keys some checkpoints carry that the model does not own: rotary buffers saved by old
// transformers versions.
const IGNORED = /(^|\.)rotary_emb\.inv_freq$/;

function list(items: string[], n = 5): string {
  return `${items.slice(0, n).join(', ')}${items.length > n ? ` (+${items.length - n} more)` : ''}`;
}

/**
 * Builds the model a config.json describes and fills it from the weights: names and shapes are
 * checked from the headers first, then tensors are read, converted and assigned one at a time.
 */
export async function modelFromFiles(files: ModelFiles, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const type = files.config.model_type;
  if (!(LLAMA_MODEL_TYPES as readonly unknown[]).includes(type)) {
    const other = type === 'gpt2' || type === 'bert' ? `; load GPT-2 and BERT folders with loadGPT2OrBert(dir, { backend, dtype })` : '';
    throw new Error(`loadModel: config.json model_type ${JSON.stringify(type)} is not supported; supported: ${LLAMA_MODEL_TYPES.join(', ')}${other}`);
  }
  const config = parseLlamaConfig(files.config);
  const dtype = opts.dtype ?? 'f32';
  // Weights are uploaded in their stored dtype (bf16/f16 move half the bytes) and converted to
  // `dtype` on the target backend, one tensor at a time (tensorFromRaw).
  const model = new LlamaForCausalLM(config, { dtype, device: loadTarget(opts, 'loadModel'), init: false });
  try {
    const expected = model.stateDict();
    const given = new Map<string, WeightEntry>();
    const unexpected: string[] = [];
    for (const [name, entry] of files.weights) {
      if (expected.has(name)) given.set(name, entry);
      // A tied checkpoint may still store lm_head.weight (a copy of the embeddings): not an error.
      else if (!IGNORED.test(name) && !(name === 'lm_head.weight' && config.tieWordEmbeddings)) unexpected.push(name);
    }
    const missing = [...expected.keys()].filter((k) => !given.has(k));
    const badShapes: string[] = [];
    for (const [name, target] of expected) {
      const entry = given.get(name);
      if (!entry) continue;
      const want = target.shape;
      if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) badShapes.push(`${name} [${entry.shape.join(',')}] (expected [${want.join(',')}])`);
    }
    if (missing.length || unexpected.length || badShapes.length) {
      const parts = [
        missing.length ? `missing ${missing.length}: ${list(missing)}` : '',
        unexpected.length ? `unexpected ${unexpected.length}: ${list(unexpected)}` : '',
        badShapes.length ? `wrong shape ${badShapes.length}: ${list(badShapes, 3)}` : '',
      ].filter(Boolean);
      throw new Error(
        `loadModel: the weights do not fit ${config.modelType} as config.json describes it; ${parts.join('; ')}. ` +
          'Check that config.json and the safetensors files come from the same checkpoint',
      );
    }
    for (const [name, entry] of given) {
      const target = expected.get(name)!;
      const value = await entry.read();
      let loaded = isTensor(value) ? value : tensorFromRaw(name, value, { dtype: target.dtype, device: target.device });
      if (loaded.device !== target.device) loaded = await loaded.to(target.device); // tensors the caller made elsewhere
      const same = loaded.dtype === target.dtype ? loaded : cast(loaded, target.dtype);
      // assign takes over the storage; the caller's own tensors stay theirs (their reference is kept).
      target.assign(same);
      if (same !== value) same.dispose();
      if (loaded !== value && loaded !== same) loaded.dispose();
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    await files.close();
  }
  const generationDefaults = files.generationConfig ? parseGenerationConfig(files.generationConfig) : {};
  return { model, config, tokenizer: files.tokenizer, generationDefaults, generationConfig: files.generationConfig };
}

/** Loads a Hugging Face model folder from disk (Node): config.json, safetensors weights (sharded or not), tokenizer. */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  return modelFromFiles(await readModelFolder(dir), opts);
}

/** Loads a model from bytes and tensors already in memory (browsers: files from fetch or an <input type=file>). */
export async function loadModelFromFiles(input: ModelFilesInput, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  return modelFromFiles(modelFilesFrom(input), opts);
}

/** Options of `saveModel`. */
export interface SaveModelOptions {
  /** Dtype of the saved weights (default the model's): 'bf16' halves an f32 model's file. */
  dtype?: 'f32' | 'bf16' | 'f16';
  /** Also writes tokenizer.json and tokenizer_config.json. */
  tokenizer?: Tokenizer | null;
  /** Also writes generation_config.json (e.g. a LoadedModel's generationConfig). */
  generationConfig?: ConfigJSON | null;
  /** Largest weights file before sharding into model-0000i-of-0000n.safetensors + index (bytes or "5GB"; default 5GB, as transformers). */
  maxShardSize?: number | string;
}

const TORCH_DTYPE: Record<string, string> = { f32: 'float32', bf16: 'bfloat16', f16: 'float16', f64: 'float64' };

/** The bytes of model.safetensors for a model (tied lm_head left out, as transformers writes it). */
export async function modelSafetensors(model: LlamaForCausalLM, dtype?: 'f32' | 'bf16' | 'f16'): Promise<Uint8Array> {
  const raw = new Map<string, RawTensor & { dtype: Dtype }>();
  for (const [name, t] of model.stateDict()) raw.set(name, (await rawFromTensor(t, dtype ?? t.dtype)) as RawTensor & { dtype: Dtype });
  return serializeSafetensors(raw, { format: 'pt' });
}

/**
 * Writes config.json and the weights (model.safetensors, or shards + index beyond maxShardSize;
 * tied lm_head left out) into `dir`, each file atomically and tensor by tensor, plus the tokenizer
 * files when given; loadModel reads it back identically.
 */
export async function saveModel(model: LlamaForCausalLM, dir: string, opts: SaveModelOptions = {}): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { writeShardedSafetensors } = await import('@tessera/safetensors/node');
  await fs.mkdir(dir, { recursive: true });
  const dtype = opts.dtype ?? (model.dtype as 'f32' | 'bf16' | 'f16');
  const tensors = [...model.stateDict()].map(
    ([name, t]) => [name, { dtype: safetensorsDtypeOf(dtype) as Dtype, shape: t.shape, data: async () => (await rawFromTensor(t, dtype)).data }] as const,
  );
  // Weights first: a config.json beside stale weights would be worse than the old pair. The writer
  // removes the earlier save's weight files it did not rewrite (a leftover model.safetensors would shadow new shards).
  await writeShardedSafetensors(dir, tensors, { maxShardSize: opts.maxShardSize ?? '5GB', metadata: { format: 'pt' } });
  const config = llamaConfigToJSON(model.config, { torch_dtype: TORCH_DTYPE[dtype] ?? 'float32' });
  await writeFileAtomic(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (opts.generationConfig) await writeFileAtomic(path.join(dir, 'generation_config.json'), `${JSON.stringify(opts.generationConfig, null, 2)}\n`);
  if (opts.tokenizer) {
    await writeFileAtomic(path.join(dir, 'tokenizer.json'), JSON.stringify(opts.tokenizer.toJSON()));
    await writeFileAtomic(path.join(dir, 'tokenizer_config.json'), `${JSON.stringify(opts.tokenizer.config, null, 2)}\n`);
  }
}
