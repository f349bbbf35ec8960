/**
 * @tessera/safetensors: read and write .safetensors files in Node and the browser, with no
 * tensor dependency. File-system helpers live in `@tessera/safetensors/node`.
 */
export { SafetensorsError } from './errors.js';
export { DTYPES, type Dtype, dtypeByteSize, isDtype } from './dtypes.js';
export {
  MAX_HEADER_SIZE,
  type SafetensorsHeader,
  type TensorInfo,
  parseHeader,
  parseHeaderJson,
  readHeaderSize,
} from './header.js';
export { type Safetensors, type SafetensorsTensor, readSafetensors, toTypedArray } from './read.js';
export { type SafetensorsTypedArray, type TypedArrayByDtype } from './typed-array.js';
export {
  type NamedTensors,
  type PlacedTensor,
  type SafetensorsLayout,
  type SafetensorsMetadata,
  type TensorInput,
  planLayout,
  serializeSafetensors,
} from './serialize.js';
export { SafetensorsReader } from './reader.js';
export { type ByteSource } from './sources/byte-source.js';
export { arrayBufferSource } from './sources/array-buffer-source.js';
export { blobSource } from './sources/blob-source.js';
export {
  DEFAULT_MAX_SHARD_SIZE,
  SHARD_INDEX_FILE,
  type PlannedShard,
  type ShardIndex,
  type ShardOptions,
  type ShardPlan,
  ShardedSafetensorsReader,
  parseShardIndex,
  parseSize,
  planShards,
  shardIndexFileName,
  serializeShardIndex,
} from './sharded.js';
