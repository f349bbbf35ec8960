import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readLines } from '@tessera/datasets';

/** A record read from a data file, with where it came from. */
export interface SourcedRecord {
  record: unknown;
  where: string;
}

/** Where bad lines went: each reported as file:line with the reason. */
export interface BadLine {
  where: string;
  reason: string;
}

/** The .jsonl files of a path (the file itself, or a folder's *.jsonl in name order). */
export async function dataFiles(p: string): Promise<string[]> {
  const s = await stat(p).catch(() => {
    throw new Error(`--data ${p}: no such file or folder; pass a .jsonl file or a folder of them`);
  });
  if (!s.isDirectory()) return [p];
  const files = (await readdir(p)).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.length === 0) throw new Error(`--data ${p}: the folder holds no .jsonl files`);
  return files.map((f) => path.join(p, f));
}

/**
 * Reads JSON Lines records. A line that is not JSON, or not an object, is reported with file:line;
 * with onBadLine 'stop' the first one ends the read with that error, with 'skip' it is counted and
 * left out. Nothing is written here, so a bad file cannot corrupt a run.
 */
export async function readChatRecords(files: string[], onBadLine: 'stop' | 'skip', check: (r: unknown) => void = () => undefined): Promise<{ records: SourcedRecord[]; bad: BadLine[] }> {
  const records: SourcedRecord[] = [];
  const bad: BadLine[] = [];
  for (const file of files) {
    for await (const { text, lineNumber } of readLines(file)) {
      if (text.trim() === '') continue;
      const where = `${file}:${lineNumber}`;
      try {
        const record = JSON.parse(text) as unknown;
        if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error('expected a JSON object such as {"messages": [...]}');
        check(record);
        records.push({ record, where });
      } catch (err) {
        const reason = (err as Error).message;
        if (onBadLine === 'stop') throw new Error(`${where}: ${reason}; fix the line or pass --on-bad-line skip`);
        bad.push({ where, reason });
      }
    }
  }
  return { records, bad };
}
