import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Node caps one write call at 2 GiB - 1; larger buffers are written in chunks of this size. */
const MAX_WRITE = 1 << 30;

/** Writes all of `bytes` at `position`, looping over short writes. */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(bytes.byteLength - done, MAX_WRITE);
    const { bytesWritten } = await handle.write(bytes, done, length, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes `path` atomically: `write` fills a temporary file in the same folder (so the rename
 * cannot cross file systems), which is fsynced, then renamed over `path`, then the folder is
 * fsynced so the rename itself survives a crash. If anything fails the temporary file is
 * removed and `path` keeps its old contents (or stays absent): readers never see half a file.
 */
export async function writeFileAtomic(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  let closed = false;
  let renamed = false;
  try {
    await write(handle);
    await handle.sync();
    closed = true;
    await handle.close();
    await rename(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) {
      if (!closed) await handle.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
    }
  }
  await syncFolder(dir);
}

/** fsyncs a folder so a rename in it is durable; some platforms (Windows) cannot, which is fine. */
async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the file's own data is already synced.
  } finally {
    await handle?.close().catch(() => {});
  }
}
