import type { ByteSource } from './byte-source.js';

/** A `ByteSource` over bytes already in memory; reads return views, not copies. */
export function arrayBufferSource(bytes: ArrayBuffer | Uint8Array): ByteSource {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return {
    size: u8.byteLength,
    read: async (offset, length) => u8.subarray(offset, offset + length),
  };
}
