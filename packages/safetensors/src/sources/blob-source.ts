import type { ByteSource } from './byte-source.js';

/** A `ByteSource` over a `Blob` or `File` (browser file inputs, fetch bodies, Node 20's Blob). */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    // Slicing a Blob is lazy, so only the requested range is ever materialized.
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}
