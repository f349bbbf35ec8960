import { type FileHandle, open } from 'node:fs/promises';
import { SafetensorsError } from '../errors.js';
import type { ByteSource } from './byte-source.js';

/** Node's fs calls cap one read at 2 GiB - 1; bigger tensors are read in chunks of this size. */
const MAX_READ = 1 << 30;

/** A `ByteSource` over an open Node file handle (positional reads, so concurrent reads are safe). */
export interface FileSource extends ByteSource {
  /** The underlying handle. */
  readonly handle: FileHandle;
  /** Closes the handle. */
  close(): Promise<void>;
}

/** Wraps an already open file handle; `size` comes from `handle.stat()` unless given. */
export async function fileHandleSource(handle: FileHandle, size?: number): Promise<FileSource> {
  const total = size ?? (await handle.stat()).size;
  return {
    handle,
    size: total,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, Math.min(length - done, MAX_READ), offset + done);
        if (bytesRead === 0) {
          throw new SafetensorsError(
            `file ended at byte ${offset + done} while reading bytes ${offset}..${offset + length}; was it truncated after opening?`,
          );
        }
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

/** Opens `path` read-only as a `ByteSource`. */
export async function openFileSource(path: string): Promise<FileSource> {
  const handle = await open(path, 'r');
  try {
    return await fileHandleSource(handle);
  } catch (err) {
    await handle.close();
    throw err;
  }
}
