import { sourceName, textChunks, type DataSource } from './data-source.js';
import { CsvParser, type CsvRow } from './csv-parser.js';

/** Options of `readCsv`. */
export interface CsvOptions {
  /** Field separator; default ',' ('\t' for TSV). */
  delimiter?: string;
  /** Quote character, or null for none (plain TSV); default '"'. */
  quote?: string | null;
  /** Column names; default: the first row. */
  columns?: string[];
}

/** Streams the rows of a CSV/TSV source as records keyed by column name; a short or long row names the file and line. */
export async function* readCsv(source: DataSource, options: CsvOptions = {}): AsyncGenerator<Record<string, string>> {
  const name = sourceName(source);
  const parser = new CsvParser(options.delimiter ?? ',', options.quote === undefined ? '"' : options.quote, name);
  let columns = options.columns ?? null;
  let first = true;
  function* emit(rows: CsvRow[]): Generator<Record<string, string>> {
    for (const row of rows) {
      if (first && row.fields[0]?.charCodeAt(0) === 0xfeff) row.fields[0] = row.fields[0].slice(1);
      first = false;
      // A blank line is no record (RFC 4180 does not allow them, but files often end with one).
      if (row.blank) continue;
      if (!columns) {
        columns = row.fields;
        continue;
      }
      if (row.fields.length !== columns.length) {
        throw new Error(`${name}:${row.lineNumber}: row has ${row.fields.length} fields but the header has ${columns.length} (${columns.join(', ')}); quote fields that contain the delimiter`);
      }
      const rec: Record<string, string> = {};
      columns.forEach((c, i) => (rec[c] = row.fields[i]!));
      yield rec;
    }
  }
  for await (const chunk of textChunks(source)) yield* emit(parser.push(chunk));
  yield* emit(parser.end());
}
