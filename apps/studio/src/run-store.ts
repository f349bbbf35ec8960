// The run's files in the Origin Private File System: what a reloaded tab needs to resume. Layout
// under tessera-studio/: run.json (settings, sources, curves, the newest complete checkpoint's
// folder), model/ and data/ (copies of dropped files), ckpt-<step>/ (checkpoint files). Each file
// write goes through createWritable, which commits on close, so a file is whole or absent; run.json
// names a checkpoint folder only after all its files are written, so a crash mid-save resumes from
// the previous one.
import type { RunView } from './studio-protocol.js';

const ROOT = 'tessera-studio';

/** run.json: the run view plus where its model and data came from and its newest checkpoint. */
export interface StoredRun extends RunView {
  model: { kind: 'default' } | { kind: 'files'; names: string[] };
  data: { kind: 'default' } | { kind: 'file'; name: string };
  checkpointDir: string | null;
}

async function root(): Promise<FileSystemDirectoryHandle> {
  const opfs = await navigator.storage.getDirectory();
  return opfs.getDirectoryHandle(ROOT, { create: true });
}

async function dirAt(path: string[], create: boolean): Promise<FileSystemDirectoryHandle> {
  let d = await root();
  for (const p of path) d = await d.getDirectoryHandle(p, { create });
  return d;
}

/** Writes one file (folders made as needed); the write lands whole or not at all. */
export async function writeRunFile(path: string, data: Uint8Array | string): Promise<void> {
  const parts = path.split('/');
  const dir = await dirAt(parts.slice(0, -1), true);
  const handle = await dir.getFileHandle(parts.at(-1)!, { create: true });
  const w = await handle.createWritable();
  await w.write(typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>));
  await w.close();
}

/** Reads one file's bytes; an error names the path when it is missing. */
export async function readRunFile(path: string): Promise<Uint8Array> {
  const parts = path.split('/');
  try {
    const dir = await dirAt(parts.slice(0, -1), false);
    const file = await (await dir.getFileHandle(parts.at(-1)!)).getFile();
    return new Uint8Array(await file.arrayBuffer());
  } catch (err) {
    throw new Error(`studio storage: cannot read ${ROOT}/${path} (${(err as Error).name}); the saved run is incomplete, start a new run`);
  }
}

/** Removes a file or folder if present. */
export async function removeRunEntry(name: string): Promise<void> {
  await (await root()).removeEntry(name, { recursive: true }).catch(() => undefined);
}

/** The stored run, or null when there is none (or it cannot be parsed). */
export async function readStoredRun(): Promise<StoredRun | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readRunFile('run.json');
  } catch {
    return null;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as StoredRun;
  } catch (err) {
    console.warn(`studio storage: ${ROOT}/run.json is not JSON (${(err as Error).message}); starting afresh`);
    return null;
  }
}

/** Writes run.json. */
export async function writeStoredRun(run: StoredRun): Promise<void> {
  await writeRunFile('run.json', `${JSON.stringify(run)}\n`);
}

/** Checkpoint folders other than `keep` (older saves, or one a crash left half written). */
export async function staleCheckpointDirs(keep: string | null): Promise<string[]> {
  const out: string[] = [];
  for await (const [name, handle] of (await root()) as unknown as AsyncIterable<[string, FileSystemHandle]>) {
    if (handle.kind === 'directory' && name.startsWith('ckpt-') && name !== keep) out.push(name);
  }
  return out;
}

/** Deletes the whole stored run. */
export async function clearStoredRun(): Promise<void> {
  const opfs = await navigator.storage.getDirectory();
  await opfs.removeEntry(ROOT, { recursive: true }).catch(() => undefined);
}
