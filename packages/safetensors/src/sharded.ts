import { type Dtype, dtypeByteSize, shapeSize } from './dtypes.js';
import { SafetensorsError, describeValue } from './errors.js';
import type { TensorInfo } from './header.js';
import type { SafetensorsTensor } from './read.js';
import { SafetensorsReader } from './reader.js';
import { type NamedTensors, compareCodePoints, namedEntries } from './serialize.js';
import type { ByteSource } from './sources/byte-source.js';
import { type TypedArrayByDtype, bytesToTypedArray } from './typed-array.js';

/** File name of the index Hugging Face writes beside sharded weights. */
export const SHARD_INDEX_FILE = 'model.safetensors.index.json';

/**
 * The index file for shards named by `pattern`: the single file's name plus ".index.json", as
 * Hugging Face names it (model.safetensors.index.json; adapter_model.safetensors.index.json for
 * "adapter_model{suffix}.safetensors").
 */
export function shardIndexFileName(pattern = 'model{suffix}.safetensors'): string {
  return `${pattern.replace('{suffix}', '')}.index.json`;
}

/** Hugging Face's default `max_shard_size` (5 GB, decimal). */
export const DEFAULT_MAX_SHARD_SIZE = 5_000_000_000;

/** The contents of `model.safetensors.index.json`. */
export interface ShardIndex {
  /** The index's `metadata` object (Hugging Face stores `total_size` here). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Tensor name → shard file name. */
  readonly weightMap: ReadonlyMap<string, string>;
}

/**
 * True for a bare file name. An index comes from the network as often as not; a weight map
 * entry like "../../.ssh/id_rsa" must never make a reader open a file outside the checkpoint.
 */
function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) && !/^[A-Za-z]:/.test(name);
}

/** Parses and validates a `model.safetensors.index.json` (text or UTF-8 bytes). */
export function parseShardIndex(input: string | Uint8Array): ShardIndex {
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch (cause) {
    throw new SafetensorsError('shard index is not valid UTF-8', { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError(`shard index is not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError(`shard index must be a JSON object with "weight_map", got ${describeValue(json)}`);
  }
  const { metadata = {}, weight_map: weightMap } = json as Record<string, unknown>;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new SafetensorsError(`shard index "metadata" is ${describeValue(metadata)}; expected an object`);
  }
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new SafetensorsError(`shard index "weight_map" is ${describeValue(weightMap)}; expected an object of tensor name → file name`);
  }
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || !isPlainFileName(file)) {
      throw new SafetensorsError(
        `shard index weight_map[${JSON.stringify(name)}] is ${describeValue(file)}; expected a file name without folders`,
      );
    }
    map.set(name, file);
  }
  return { metadata: metadata as Record<string, unknown>, weightMap: map };
}

/** A string as Python's `json.dumps` writes it by default (`ensure_ascii=True`). */
function pythonJsonString(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `json.dumps(value, indent=2, sort_keys=True)` for the JSON values an index holds. */
function pythonJson(value: unknown, indent: string): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  if (typeof value === 'string') return pythonJsonString(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + pythonJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = value instanceof Map ? [...value] : Object.entries(value as object);
  if (entries.length === 0) return '{}';
  // Python sorts str keys by code point.
  entries.sort(([a], [b]) => compareCodePoints(a, b));
  return `{\n${entries.map(([k, v]) => `${inner}${pythonJsonString(k)}: ${pythonJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

/**
 * Serializes an index exactly as `transformers`' `save_pretrained` does:
 * `json.dumps(index, indent=2, sort_keys=True) + "\n"`.
 */
export function serializeShardIndex(index: ShardIndex): string {
  return `${pythonJson({ metadata: index.metadata, weight_map: index.weightMap }, '')}\n`;
}

// huggingface_hub's parse_size_to_int, which save_pretrained's split_torch_state_dict_into_shards
// applies to a string max_shard_size: the last two characters, in any case, are the unit (TB, GB,
// MB, KB, decimal), the rest (spaces stripped) is read by Python's float() and the product is
// truncated to an integer. Tessera accepts GiB, MiB and KiB (binary) on top.
const SIZE_UNITS: Record<string, number> = { TB: 1e12, GB: 1e9, MB: 1e6, KB: 1e3 };
const BINARY_UNITS: Record<string, number> = { GIB: 2 ** 30, MIB: 2 ** 20, KIB: 2 ** 10 };
// What Python's float() reads as a finite number: sign, digits with single underscores between them, fraction, exponent.
const DIGITS = '\\d(?:_?\\d)*';
const PYTHON_FLOAT = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`);

/**
 * A shard size in bytes from a number or a size string, as huggingface_hub's parse_size_to_int
 * (what save_pretrained uses) reads it: "5GB" = "5gb" = 5·10⁹, "1.5GB" = 1.5·10⁹, "1TB" = 10¹²,
 * plus binary "10GiB" = 10·2³⁰. 0 is allowed: every tensor then goes in a shard of its own.
 */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') {
    if (!Number.isSafeInteger(size) || size < 0) throw new SafetensorsError(`shard size ${size} must be a non-negative integer number of bytes`);
    return size;
  }
  const text = String(size).trim();
  const binary = BINARY_UNITS[text.slice(-3).toUpperCase()];
  const multiplier = binary ?? SIZE_UNITS[text.slice(-2).toUpperCase()];
  const value = text.slice(0, binary ? -3 : -2).trim();
  if (multiplier === undefined || !PYTHON_FLOAT.test(value)) {
    throw new SafetensorsError(
      `shard size ${JSON.stringify(size)} is not a number followed by TB, GB, MB, KB (decimal, any case) or GiB, MiB, KiB (binary), e.g. "5GB" or "1.5GB"`,
    );
  }
  const result = Math.trunc(Number(value.replaceAll('_', '')) * multiplier);
  if (result < 0) throw new SafetensorsError(`shard size ${JSON.stringify(size)} is negative; give a size of 0 or more, e.g. "5GB"`);
  if (!Number.isSafeInteger(result)) throw new SafetensorsError(`shard size ${JSON.stringify(size)} is too large`);
  return Math.abs(result); // -0 from "-0KB" reads as 0
}

/** One planned shard file. */
export interface PlannedShard<T> {
  /** Its file name. */
  readonly fileName: string;
  /** Its tensors, in the caller's order. */
  readonly tensors: ReadonlyArray<readonly [string, T]>;
  /** Sum of its tensors' byte sizes. */
  readonly size: number;
}

/** How `planShards` splits a checkpoint. */
export interface ShardPlan<T> {
  /** Shard files in order. */
  readonly shards: readonly PlannedShard<T>[];
  /** The index to write beside them; undefined when everything fits in one file (HF writes no index then). */
  readonly index: ShardIndex | undefined;
}

/** Options for `planShards`. */
export interface ShardOptions {
  /** Largest shard in tensor bytes (number, or "5GB"-style string); default 5 GB. */
  readonly maxShardSize?: number | string;
  /** File name pattern with `{suffix}`; default "model{suffix}.safetensors". */
  readonly filenamePattern?: string;
}

/**
 * Splits tensors into shards the way `huggingface_hub.split_state_dict_into_shards_factory` does:
 * greedily in the caller's order, a new shard when the next tensor would overflow the current
 * one, a tensor larger than the limit alone in its own shard, files named
 * `model-00001-of-00003.safetensors`, and `metadata.total_size` = sum of tensor bytes.
 */
export function planShards<T extends { readonly dtype: Dtype; readonly shape: readonly number[] }>(
  tensors: NamedTensors<T>,
  options: ShardOptions = {},
): ShardPlan<T> {
  const max = parseSize(options.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE);
  const pattern = options.filenamePattern ?? 'model{suffix}.safetensors';
  if (!pattern.includes('{suffix}')) throw new SafetensorsError(`filenamePattern ${JSON.stringify(pattern)} must contain "{suffix}"`);
  const groups: Array<{ tensors: Array<[string, T]>; size: number }> = [];
  let current: { tensors: Array<[string, T]>; size: number } = { tensors: [], size: 0 };
  let totalSize = 0;
  for (const [name, t] of namedEntries(tensors)) {
    const size = shapeSize(t.shape, `tensor ${JSON.stringify(name)}`) * dtypeByteSize(t.dtype);
    totalSize += size;
    if (size > max) {
      // As in huggingface_hub: the oversized tensor's shard goes in before the one being filled.
      groups.push({ tensors: [[name, t]], size });
      continue;
    }
    if (current.size + size > max && current.tensors.length > 0) {
      groups.push(current);
      current = { tensors: [], size: 0 };
    }
    current.tensors.push([name, t]);
    current.size += size;
  }
  if (current.tensors.length > 0 || groups.length === 0) groups.push(current);

  if (groups.length === 1) {
    return { shards: [{ fileName: pattern.replace('{suffix}', ''), ...groups[0]! }], index: undefined };
  }
  const count = String(groups.length).padStart(5, '0');
  const weightMap = new Map<string, string>();
  const shards = groups.map((g, i) => {
    const fileName = pattern.replace('{suffix}', `-${String(i + 1).padStart(5, '0')}-of-${count}`);
    for (const [name] of g.tensors) weightMap.set(name, fileName);
    return { fileName, ...g };
  });
  return { shards, index: { metadata: { total_size: totalSize }, weightMap } };
}

/**
 * Reads a sharded checkpoint lazily: the index says which shard holds each tensor; a shard's
 * header is read the first time one of its tensors is asked for, and only that tensor's bytes
 * are read. `openShard` maps a shard file name to its bytes (a file, a Blob, an HTTP range reader).
 */
export class ShardedSafetensorsReader {
  private readonly readers = new Map<string, Promise<SafetensorsReader>>();

  /** Wraps an index; opens nothing until a tensor is asked for. */
  constructor(
    /** The parsed index. */
    readonly index: ShardIndex,
    private readonly openShard: (fileName: string) => Promise<ByteSource>,
  ) {}

  /** A reader over a single, unsharded file, so callers handle both layouts the same way. */
  static async fromSingleFile(
    fileName: string,
    openShard: (fileName: string) => Promise<ByteSource>,
  ): Promise<ShardedSafetensorsReader> {
    const reader = await SafetensorsReader.open(await openShard(fileName));
    const weightMap = new Map(reader.names().map((n) => [n, fileName] as const));
    const sharded = new ShardedSafetensorsReader({ metadata: { total_size: reader.header.dataSize }, weightMap }, openShard);
    sharded.readers.set(fileName, Promise.resolve(reader));
    return sharded;
  }

  /** Tensor names in index order. */
  names(): string[] {
    return [...this.index.weightMap.keys()];
  }

  /** True when the index lists `name`. */
  has(name: string): boolean {
    return this.index.weightMap.has(name);
  }

  /** The shard file that holds `name`. */
  shardOf(name: string): string {
    const file = this.index.weightMap.get(name);
    if (file === undefined) {
      throw new SafetensorsError(`no tensor ${JSON.stringify(name)} in the shard index (${this.index.weightMap.size} tensors)`);
    }
    return file;
  }

  /** The reader for one shard file, opened (header only) on first use. */
  shard(fileName: string): Promise<SafetensorsReader> {
    let reader = this.readers.get(fileName);
    if (!reader) {
      const opening = this.openShard(fileName).then((source) => SafetensorsReader.open(source));
      // A failed open is not cached, so a later call can retry (e.g. after a network error).
      opening.catch(() => {
        if (this.readers.get(fileName) === opening) this.readers.delete(fileName);
      });
      this.readers.set(fileName, opening);
      reader = opening;
    }
    return reader;
  }

  private async locate(name: string): Promise<SafetensorsReader> {
    const file = this.shardOf(name);
    let reader: SafetensorsReader;
    try {
      reader = await this.shard(file);
    } catch (err) {
      if (err instanceof SafetensorsError) {
        throw new SafetensorsError(`shard ${JSON.stringify(file)}: ${err.message.replace(/^safetensors: /, '')}`, { cause: err });
      }
      throw err;
    }
    if (!reader.has(name)) {
      throw new SafetensorsError(`the index maps tensor ${JSON.stringify(name)} to ${JSON.stringify(file)}, but that file has no such tensor`);
    }
    return reader;
  }

  /** Dtype, shape and offsets of `name` (reads its shard's header if not yet read). */
  async info(name: string): Promise<TensorInfo> {
    return (await this.locate(name)).info(name);
  }

  /** Reads one tensor from its shard. */
  async tensor(name: string): Promise<SafetensorsTensor> {
    return (await this.locate(name)).tensor(name);
  }

  /** Reads one tensor as its natural typed array (see `toTypedArray`). */
  async typedArray<D extends Dtype = Dtype>(name: string): Promise<TypedArrayByDtype[D]> {
    const t = await this.tensor(name);
    return bytesToTypedArray(t.dtype as D, t.data);
  }

  /** Closes every shard opened so far. */
  async close(): Promise<void> {
    const pending = [...this.readers.values()];
    this.readers.clear();
    const settled = await Promise.allSettled(pending);
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
  }

  /** Closes every shard at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
