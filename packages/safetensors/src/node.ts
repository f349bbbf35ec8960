/**
 * Node-only entry (`@tessera/safetensors/node`): files on disk. Kept apart from the main entry so
 * browser bundles of `@tessera/safetensors` never pull in `node:fs`.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Safetensors, readSafetensors } from './read.js';
import { SafetensorsReader } from './reader.js';
import { ShardedSafetensorsReader, parseShardIndex } from './sharded.js';
import { openFileSource } from './sources/file-source.js';

export { writeFileAtomic } from './atomic-write.js';
export { type FileSource, fileHandleSource, openFileSource } from './sources/file-source.js';
export { type TensorToWrite, type WriteShardedOptions, writeSafetensorsFile, writeShardedSafetensors } from './write-file.js';

/** Opens a .safetensors file lazily: reads the header now, tensors on demand. */
export async function openSafetensorsFile(path: string): Promise<SafetensorsReader> {
  return SafetensorsReader.open(await openFileSource(path));
}

/** Reads a whole .safetensors file into memory (fine for adapters and small models). */
export async function readSafetensorsFile(path: string): Promise<Safetensors> {
  const bytes = await readFile(path);
  return readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * Opens a checkpoint folder lazily, sharded or not, preferring the single file as transformers does:
 * `model.safetensors` when it exists, else `model.safetensors.index.json` routing each tensor to
 * its shard. `singleFile` and `indexFile` override those names (e.g. `singleFile:
 * "adapter_model.safetensors"` for a PEFT adapter, whose index is then, as the writer names it,
 * adapter_model.safetensors.index.json).
 */
export async function openSafetensorsCheckpoint(
  dir: string,
  options: { indexFile?: string; singleFile?: string } = {},
): Promise<ShardedSafetensorsReader> {
  const singleFile = options.singleFile ?? 'model.safetensors';
  const indexPath = join(dir, options.indexFile ?? `${singleFile}.index.json`);
  const openShard = (fileName: string) => openFileSource(join(dir, fileName));
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );
  if (!(await exists(join(dir, singleFile))) && (await exists(indexPath))) {
    return new ShardedSafetensorsReader(parseShardIndex(await readFile(indexPath)), openShard);
  }
  return ShardedSafetensorsReader.fromSingleFile(singleFile, openShard);
}
