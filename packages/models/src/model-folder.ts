// A Hugging Face model folder (config.json, model.safetensors or shards + index, tokenizer files)
// read into memory, from disk (Node) or from bytes the caller already has (browsers). Generic over
// model families: it knows files, not architectures.
import { isTensor, type Tensor } from '@tessera/tensor';
import { Tokenizer, type TokenizerConfig, type TokenizerJSON } from '@tessera/tokenizers';
import { parseConfigJSON, type ConfigJSON } from './config-fields.js';
import type { RawTensor } from './load-weights.js';
import { parseSafetensors } from './safetensors-bytes.js';

/** A model folder's contents in memory: the config, every weight by name, and the tokenizer if there is one. */
export interface ModelFiles {
  config: ConfigJSON;
  weights: Map<string, RawTensor | Tensor>;
  tokenizer: Tokenizer | null;
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
}

function list(names: string[], n = 5): string {
  return `${names.slice(0, n).join(', ')}${names.length > n ? ` (+${names.length - n} more)` : ''}`;
}

/** Collects the tensors of safetensors buffers and named tensors into one state dict, refusing duplicate names. */
export function modelFilesFrom(input: ModelFilesInput): ModelFiles {
  const config = parseConfigJSON(input.config);
  const weights = new Map<string, RawTensor | Tensor>();
  const add = (name: string, value: RawTensor | Tensor, source: string): void => {
    if (weights.has(name)) throw new Error(`model files: tensor "${name}" appears twice (again in ${source}); pass each tensor once`);
    weights.set(name, value);
  };
  const entries = input.weights instanceof Map ? [...input.weights] : Object.entries(input.weights);
  for (const [key, value] of entries) {
    if (isTensor(value)) add(key, value, 'the tensors');
    else {
      const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
      for (const [name, raw] of parseSafetensors(bytes, key).tensors) add(name, raw, key);
    }
  }
  let tokenizer: Tokenizer | null = null;
  if (input.tokenizer instanceof Tokenizer) tokenizer = input.tokenizer;
  else if (input.tokenizer) tokenizer = Tokenizer.fromJSON(input.tokenizer.json, input.tokenizer.config ?? null);
  return { config, weights, tokenizer };
}

/**
 * Reads a model folder from disk (Node): config.json, then model.safetensors or the shards named
 * by model.safetensors.index.json (model.safetensors wins when both exist, as in transformers),
 * and tokenizer.json with tokenizer_config.json when present.
 */
export async function readModelFolder(dir: string): Promise<ModelFiles> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw new Error(`readModelFolder: cannot read the folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass the path of a Hugging Face model folder`);
  }
  const has = (f: string): boolean => names.includes(f);
  if (!has('config.json')) throw new Error(`readModelFolder: ${dir} has no config.json (found: ${list(names) || 'nothing'}); a Hugging Face model folder needs config.json and model.safetensors`);
  const config = parseConfigJSON(await fs.readFile(path.join(dir, 'config.json'), 'utf8'), path.join(dir, 'config.json'));

  const weights = new Map<string, RawTensor>();
  const readShard = async (file: string): Promise<Map<string, RawTensor>> => {
    const bytes = await fs.readFile(path.join(dir, file));
    return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path.join(dir, file)).tensors;
  };
  if (has('model.safetensors')) {
    for (const [k, v] of await readShard('model.safetensors')) weights.set(k, v);
  } else if (has('model.safetensors.index.json')) {
    const indexPath = path.join(dir, 'model.safetensors.index.json');
    const index = parseConfigJSON(await fs.readFile(indexPath, 'utf8'), indexPath);
    const map = index.weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== 'object') throw new Error(`${indexPath}: missing "weight_map" (tensor name -> shard file); the index is damaged`);
    const shards = [...new Set(Object.values(map))];
    const absent = shards.filter((s) => !has(s));
    if (absent.length) throw new Error(`readModelFolder: ${indexPath} names shards that are not in the folder: ${list(absent)}; download every shard`);
    for (const shard of shards) {
      for (const [k, v] of await readShard(shard)) {
        if (map[k] !== shard) throw new Error(`readModelFolder: ${shard} holds "${k}", which ${indexPath} places in ${map[k] ?? 'no shard'}; the index and shards disagree`);
        weights.set(k, v);
      }
    }
    const missing = Object.keys(map).filter((k) => !weights.has(k));
    if (missing.length) throw new Error(`readModelFolder: tensors listed in ${indexPath} are in no shard: ${list(missing)}; the shards are incomplete`);
  } else {
    const other = names.filter((n) => /\.(bin|pt|pth|ckpt|gguf)$/.test(n));
    throw new Error(
      `readModelFolder: ${dir} has no model.safetensors or model.safetensors.index.json` +
        (other.length ? ` (found ${list(other)}: only safetensors checkpoints are supported; convert with transformers' save_pretrained(safe_serialization=True))` : ` (found: ${list(names)})`),
    );
  }
  const tokenizer = has('tokenizer.json') ? await Tokenizer.fromFile(path.join(dir, 'tokenizer.json')) : null;
  return { config, weights, tokenizer };
}

/** Writes a file through a temporary name and a rename, so a crash never leaves a half-written file under the real name. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const fs = await import('node:fs/promises');
  const tmp = `${file}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
