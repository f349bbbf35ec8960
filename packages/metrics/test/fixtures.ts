import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Reads a committed reference fixture (made by scripts/make-fixtures.py) and checks its format version. */
export function loadFixture<T>(name: string): T & { formatVersion: number } {
  const path = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const data = JSON.parse(readFileSync(path, 'utf8')) as T & { formatVersion: number };
  if (data.formatVersion !== 1) throw new Error(`${path}: format version ${data.formatVersion}, expected 1; rerun scripts/make-fixtures.py`);
  return data;
}

/** fast-check run count from FC_NUM_RUNS (default 100). */
export const numRuns = Number(process.env.FC_NUM_RUNS ?? 100);
