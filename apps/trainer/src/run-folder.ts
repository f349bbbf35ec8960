import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A run's output folder: atomic file writes and an append-only metrics.jsonl. */
export class RunFolder {
  constructor(readonly dir: string) {}
  /** Creates the folder. */
  async create(): Promise<this> {
    await mkdir(this.dir, { recursive: true });
    return this;
  }
  /** Writes `name` through a temporary file and a rename, so a crash never leaves half a file. */
  async write(name: string, data: string | Uint8Array): Promise<void> {
    const target = path.join(this.dir, name);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    await writeFile(tmp, data);
    await rename(tmp, target);
  }
  /** Appends one JSON line to metrics.jsonl. */
  async metric(record: Record<string, unknown>): Promise<void> {
    await appendFile(path.join(this.dir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }
}
