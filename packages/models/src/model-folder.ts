// A Hugging Face model folder (config.json, model.safetensors or shards + index, tokenizer files)
// as names, shapes and lazy reads, from disk (Node) or from bytes the caller already has
// (browsers). Generic over model families: it knows files, not architectures. On disk only the
// headers are read up front; tensors are read one at a time as the loader assigns them, so loading
// never holds a whole checkpoint next to the model.
import { readSafetensors } from '@tessera/safetensors';
import { isTensor, type Tensor } from '@tessera/tensor';
import { Tokenizer, type TokenizerConfig, type TokenizerJSON } from '@tessera/tokenizers';
import { parseConfigJSON, type ConfigJSON } from './config-fields.js';
import type { RawTensor } from './load-weights.js';

/** One weight of a checkpoint: its stored dtype and shape (from the header), and its bytes on demand. */
export interface WeightEntry {
  dtype: string;
  shape: readonly number[];
  /** The safetensors bytes, or the tensor when the caller passed tensors. */
  read(): Promise<RawTensor | Tensor>;
}

/** A model folder's contents: the config, every weight by name, and the tokenizer if there is one. */
export interface ModelFiles {
  config: ConfigJSON;
  weights: Map<string, WeightEntry>;
  tokenizer: Tokenizer | null;
  /** generation_config.json, when present. */
  generationConfig: ConfigJSON | null;
  /** Releases open files (Node); call when done reading weights. */
  close(): Promise<void>;
}

/** What a browser (or any caller holding the bytes) passes instead of a folder path. */
export interface ModelFilesInput {
  /** config.json as text or object. */
  config: string | ConfigJSON;
  /**
   * Weights: `.safetensors` files by file name (bytes: Uint8Array or ArrayBuffer; all of a sharded
   * checkpoint's shards), and/or tensors by parameter name.
   */
  weights: Map<string, Uint8Array | ArrayBuffer | Tensor> | Record<string, Uint8Array | ArrayBuffer | Tensor>;
  /** A Tokenizer, or tokenizer.json (text or object) with tokenizer_config.json. */
  tokenizer?: Tokenizer | { json: string | TokenizerJSON; config?: string | TokenizerConfig | null } | null;
  /** generation_config.json as text or object. */
  generationConfig?: string | ConfigJSON | null;
}

function list(names: string[], n = 5): string {
  return `${names.slice(0, n).join(', ')}${names.length > n ? ` (+${names.length - n} more)` : ''}`;
}

function addEntry(weights: Map<string, WeightEntry>, name: string, entry: WeightEntry, source: string): void {
  if (weights.has(name)) throw new Error(`model files: tensor "${name}" appears twice (again in ${source}); pass each tensor once`);
  weights.set(name, entry);
}

/** Model files from safetensors buffers and/or named tensors in memory (refusing duplicate names). */
export function modelFilesFrom(input: ModelFilesInput): ModelFiles {
  const config = parseConfigJSON(input.config);
  const weights = new Map<string, WeightEntry>();
  const entries = input.weights instanceof Map ? [...input.weights] : Object.entries(input.weights);
  for (const [key, value] of entries) {
    if (isTensor(value)) {
      addEntry(weights, key, { dtype: value.dtype, shape: [...value.shape], read: async () => value }, 'the tensors');
      continue;
    }
    let file;
    try {
      file = readSafetensors(value);
    } catch (err) {
      throw new Error(`${key}: ${(err as Error).message}`);
    }
    for (const [name, raw] of file.tensors) addEntry(weights, name, { dtype: raw.dtype, shape: raw.shape, read: async () => raw }, key);
  }
  let tokenizer: Tokenizer | null = null;
  if (input.tokenizer instanceof Tokenizer) tokenizer = input.tokenizer;
  else if (input.tokenizer) tokenizer = Tokenizer.fromJSON(input.tokenizer.json, input.tokenizer.config ?? null);
  const generationConfig = input.generationConfig ? parseConfigJSON(input.generationConfig, 'generation_config.json') : null;
  return { config, weights, tokenizer, generationConfig, close: async () => {} };
}

/**
 * Opens a model folder on disk (Node): config.json, then model.safetensors or the shards named by
 * model.safetensors.index.json (model.safetensors wins when both exist, as in transformers), and
 * tokenizer.json with tokenizer_config.json and generation_config.json when present. Only
 * weight headers are read here.
 */
export async function readModelFolder(dir: string): Promise<ModelFiles> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { openSafetensorsFile } = await import('@tessera/safetensors/node');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw new Error(`readModelFolder: cannot read the folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass the path of a Hugging Face model folder`);
  }
  const has = (f: string): boolean => names.includes(f);
  if (!has('config.json')) throw new Error(`readModelFolder: ${dir} has no config.json (found: ${list(names) || 'nothing'}); a Hugging Face model folder needs config.json and model.safetensors`);
  const config = parseConfigJSON(await fs.readFile(path.join(dir, 'config.json'), 'utf8'), path.join(dir, 'config.json'));

  let shards: string[];
  let weightMap: Record<string, string> | null = null;
  const indexPath = path.join(dir, 'model.safetensors.index.json');
  if (has('model.safetensors')) shards = ['model.safetensors'];
  else if (has('model.safetensors.index.json')) {
    const index = parseConfigJSON(await fs.readFile(indexPath, 'utf8'), indexPath);
    weightMap = index.weight_map as Record<string, string>;
    if (!weightMap || typeof weightMap !== 'object') throw new Error(`${indexPath}: missing "weight_map" (tensor name -> shard file); the index is damaged`);
    shards = [...new Set(Object.values(weightMap))];
    const absent = shards.filter((s) => !has(s));
    if (absent.length) throw new Error(`readModelFolder: ${indexPath} names shards that are not in the folder: ${list(absent)}; download every shard`);
  } else {
    const other = names.filter((n) => /\.(bin|pt|pth|ckpt|gguf)$/.test(n));
    throw new Error(
      `readModelFolder: ${dir} has no model.safetensors or model.safetensors.index.json` +
        (other.length ? ` (found ${list(other)}: only safetensors checkpoints are supported; convert with transformers' save_pretrained(safe_serialization=True))` : ` (found: ${list(names)})`),
    );
  }

  // Read before any file is opened, so a bad tokenizer.json cannot leave handles behind.
  const tokenizer = has('tokenizer.json') ? await Tokenizer.fromFile(path.join(dir, 'tokenizer.json')) : null;
  const generationPath = path.join(dir, 'generation_config.json');
  const generationConfig = has('generation_config.json') ? parseConfigJSON(await fs.readFile(generationPath, 'utf8'), generationPath) : null;
  const readers: { close(): Promise<void> }[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(readers.map((r) => r.close()));
  };
  const weights = new Map<string, WeightEntry>();
  try {
    for (const shard of shards) {
      const file = path.join(dir, shard);
      let reader;
      try {
        reader = await openSafetensorsFile(file);
      } catch (err) {
        throw new Error(`${file}: ${(err as Error).message}`);
      }
      readers.push(reader);
      for (const name of reader.names()) {
        if (weightMap && weightMap[name] !== shard) {
          throw new Error(`readModelFolder: ${shard} holds "${name}", which ${indexPath} places in ${weightMap[name] ?? 'no shard'}; the index and shards disagree`);
        }
        const info = reader.info(name);
        const r = reader;
        addEntry(weights, name, { dtype: info.dtype, shape: info.shape, read: () => r.tensor(name) }, shard);
      }
    }
    const missing = weightMap ? Object.keys(weightMap).filter((k) => !weights.has(k)) : [];
    if (missing.length) throw new Error(`readModelFolder: tensors listed in ${indexPath} are in no shard: ${list(missing)}; the shards are incomplete`);
  } catch (err) {
    await close();
    throw err;
  }
  return { config, weights, tokenizer, generationConfig, close };
}

/** Writes a file through a temporary name, flushed, then renamed: a crash never leaves a half-written file under the real name. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const { writeFileAtomic: atomic } = await import('@tessera/safetensors/node');
  await atomic(file, (handle) => handle.writeFile(data));
}
