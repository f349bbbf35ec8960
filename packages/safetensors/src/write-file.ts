import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeFully } from './atomic-write.js';
import type { Dtype } from './dtypes.js';
import { SafetensorsError, describeValue } from './errors.js';
import { type NamedTensors, type SafetensorsMetadata, namedEntries, planLayout } from './serialize.js';
import { type ShardOptions, type ShardPlan, planShards, serializeShardIndex, shardIndexFileName } from './sharded.js';
import { checkViewKind, viewToLittleEndianBytes } from './typed-array.js';

/**
 * A tensor to write to disk. `data` may be a function, called once when the writer reaches this
 * tensor, so a checkpoint larger than memory can be written (or converted from a reader) one
 * tensor at a time.
 */
export interface TensorToWrite {
  /** Element type. */
  readonly dtype: Dtype;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** The bytes (any typed array), or a function producing them. */
  readonly data: ArrayBufferView | (() => ArrayBufferView | Promise<ArrayBufferView>);
}

function eagerByteLength(t: TensorToWrite, where: string): number | undefined {
  if (typeof t.data === 'function') return undefined;
  if (!ArrayBuffer.isView(t.data)) {
    throw new SafetensorsError(`${where}: data must be a typed array, DataView or function, got ${describeValue(t.data)}`);
  }
  checkViewKind(t.dtype, t.data, where);
  return t.data.byteLength;
}

/**
 * Writes one safetensors file atomically (temporary file, fsync, rename), streaming tensor by
 * tensor so the whole file is never held in memory. Same layout as `serializeSafetensors`.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: NamedTensors<TensorToWrite>,
  metadata?: SafetensorsMetadata,
): Promise<void> {
  const layout = planLayout(tensors, metadata, eagerByteLength);
  await writeFileAtomic(path, async (handle) => {
    await writeFully(handle, layout.prefix, 0);
    const start = layout.prefix.byteLength;
    for (const { name, tensor, begin, end } of layout.placed) {
      const view = typeof tensor.data === 'function' ? await tensor.data() : tensor.data;
      if (!ArrayBuffer.isView(view) || view.byteLength !== end - begin) {
        throw new SafetensorsError(
          `tensor ${JSON.stringify(name)}: data holds ${ArrayBuffer.isView(view) ? view.byteLength : describeValue(view)} bytes but dtype ${tensor.dtype} × shape ${describeValue(tensor.shape)} needs ${end - begin}`,
        );
      }
      checkViewKind(tensor.dtype, view, `tensor ${JSON.stringify(name)}`);
      await writeFully(handle, viewToLittleEndianBytes(view), start + begin);
    }
  });
}

/** Options for `writeShardedSafetensors`. */
export interface WriteShardedOptions extends ShardOptions {
  /** `__metadata__` written into every shard (transformers writes `{ format: "pt" }`). */
  readonly metadata?: SafetensorsMetadata;
  /** Extra keys for the index's `metadata` beside `total_size`. */
  readonly indexMetadata?: Readonly<Record<string, unknown>>;
}

/**
 * Writes a checkpoint into folder `dir` as Hugging Face does: one `model.safetensors` when it
 * fits in `maxShardSize`, else `model-0000i-of-0000n.safetensors` shards plus
 * `model.safetensors.index.json` (for another `filenamePattern`, its own names:
 * `adapter_model.safetensors.index.json` beside `adapter_model-0000i-of-0000n.safetensors`).
 * Each file is written atomically; the index goes last, so a reader never sees an index pointing
 * at shards that are not fully written. Weight files of an earlier save with the same pattern
 * that this one did not write are removed (as transformers' save_pretrained removes stale
 * shards): its shards, its index after a single-file save, and its single file before a sharded
 * save's index is written (readers prefer the single file), so re-saving a smaller model never
 * reads back old weights. Files of other patterns stay.
 */
export async function writeShardedSafetensors(
  dir: string,
  tensors: NamedTensors<TensorToWrite>,
  options: WriteShardedOptions = {},
): Promise<ShardPlan<TensorToWrite>> {
  const plan = planShards(namedEntries(tensors), options);
  for (const shard of plan.shards) {
    await writeSafetensorsFile(join(dir, shard.fileName), shard.tensors, options.metadata);
  }
  const pattern = options.filenamePattern ?? 'model{suffix}.safetensors';
  const indexFile = shardIndexFileName(pattern);
  const stale = await staleWeightFiles(dir, pattern, indexFile, new Set(plan.shards.map((s) => s.fileName)));
  if (!plan.index) {
    for (const f of stale) await rm(join(dir, f), { force: true });
    return plan;
  }
  // An old single file goes before the new index is written: a reader finding both takes the single file.
  const single = pattern.replace('{suffix}', '');
  if (stale.includes(single)) await rm(join(dir, single), { force: true });
  const index = { metadata: { ...options.indexMetadata, ...plan.index.metadata }, weightMap: plan.index.weightMap };
  const text = new TextEncoder().encode(serializeShardIndex(index));
  await writeFileAtomic(join(dir, indexFile), (handle) => writeFully(handle, text, 0));
  for (const f of stale) if (f !== indexFile && f !== single) await rm(join(dir, f), { force: true });
  return { shards: plan.shards, index };
}

/**
 * Files in `dir` an earlier save with `pattern` could have written and this one did not: the
 * single file, its shards (`{suffix}` = `-NNNNN-of-NNNNN`) and its shard index.
 */
async function staleWeightFiles(dir: string, pattern: string, indexFile: string, written: ReadonlySet<string>): Promise<string[]> {
  const [before, after] = pattern.split('{suffix}').map((part) => part!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const owned = new RegExp(`^${before}(-\\d{5}-of-\\d{5})?${after}$`);
  return (await readdir(dir)).filter((f) => !written.has(f) && (owned.test(f) || f === indexFile));
}
