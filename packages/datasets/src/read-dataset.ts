import { Dataset } from './dataset.js';
import { sourceExtension, sourceName, type DataSource } from './data-source.js';
import { readConll, type ConllOptions } from './read-conll.js';
import { readCsv, type CsvOptions } from './read-csv.js';
import { readJsonArray } from './read-json.js';
import { readJsonl } from './read-jsonl.js';
import { readTextRecords, type TextReadOptions } from './read-text.js';

/** File formats `readDataset` reads. */
export type FileFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'conll' | 'text';

const BY_EXTENSION: Record<string, FileFormat> = { jsonl: 'jsonl', ndjson: 'jsonl', json: 'json', csv: 'csv', tsv: 'tsv', conll: 'conll', iob: 'conll', bio: 'conll', txt: 'text', text: 'text', md: 'text' };

/** Options of `readDataset`. */
export interface ReadDatasetOptions extends CsvOptions, ConllOptions, TextReadOptions {
  /** The file format; default: from the extension. */
  format?: FileFormat;
}

/** Opens a source as a re-iterable Dataset of records, choosing the reader by `format` or the file extension. */
export function readDataset<T = Record<string, unknown>>(source: DataSource, options: ReadDatasetOptions = {}): Dataset<T> {
  const format = options.format ?? BY_EXTENSION[sourceExtension(source)];
  if (!format) throw new Error(`readDataset: cannot tell the format of ${sourceName(source)}; pass { format: 'jsonl' | 'json' | 'csv' | 'tsv' | 'conll' | 'text' }`);
  // Paths and URLs reopen on every pass; a one-shot stream can be read once.
  const open = (): AsyncIterable<unknown> => {
    switch (format) {
      case 'jsonl':
        return readJsonl(source);
      case 'json':
        return readJsonArray(source);
      case 'csv':
        return readCsv(source, options);
      case 'tsv':
        return readCsv(source, { ...options, delimiter: options.delimiter ?? '\t' });
      case 'conll':
        return readConll(source, options);
      case 'text':
        return readTextRecords(source, options);
      default:
        throw new Error(`readDataset: unknown format ${JSON.stringify(format)}; use jsonl, json, csv, tsv, conll or text`);
    }
  };
  return Dataset.from(open as () => AsyncIterable<T>);
}
