import { join } from 'node:path';
import { writeFileAtomic, writeFully } from './atomic-write.js';
import type { Dtype } from './dtypes.js';
import { SafetensorsError, describeValue } from './errors.js';
import { type NamedTensors, type SafetensorsMetadata, namedEntries, planLayout } from './serialize.js';
import { SHARD_INDEX_FILE, type ShardOptions, type ShardPlan, planShards, serializeShardIndex } from './sharded.js';
import { viewToLittleEndianBytes } from './typed-array.js';

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
 * `model.safetensors.index.json`. Each file is written atomically; the index goes last, so a
 * reader never sees an index pointing at shards that are not fully written. Stale files from an
 * earlier save with a different shard count are not removed.
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
  if (plan.index) {
    const index = { metadata: { ...options.indexMetadata, ...plan.index.metadata }, weightMap: plan.index.weightMap };
    const text = new TextEncoder().encode(serializeShardIndex(index));
    await writeFileAtomic(join(dir, SHARD_INDEX_FILE), (handle) => writeFully(handle, text, 0));
    return { shards: plan.shards, index };
  }
  return plan;
}
