import { sourceName, type DataSource } from './data-source.js';
import { readLines } from './lines.js';

/** Streams the records of a JSON Lines source; blank lines are skipped, a bad line names the file and line number. */
export async function* readJsonl<T = Record<string, unknown>>(source: DataSource): AsyncGenerator<T> {
  for await (const { text, lineNumber } of readLines(source)) {
    if (text.trim() === '') continue;
    try {
      yield JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${sourceName(source)}:${lineNumber}: invalid JSON (${(err as Error).message}); each line of a .jsonl file must hold one complete JSON value: ${JSON.stringify(text.slice(0, 80))}`);
    }
  }
}
