import { readText, type DataSource } from './data-source.js';
import { readLines } from './lines.js';

/** Options of `readTextRecords`. */
export interface TextReadOptions {
  /** 'line' (default): one record per non-blank line; 'paragraph': blank-line separated blocks; 'document': the whole text. */
  unit?: 'line' | 'paragraph' | 'document';
}

/** Streams plain text as `{ text }` records. */
export async function* readTextRecords(source: DataSource, options: TextReadOptions = {}): AsyncGenerator<{ text: string }> {
  const unit = options.unit ?? 'line';
  if (unit === 'document') {
    yield { text: await readText(source) };
    return;
  }
  let para: string[] = [];
  for await (const { text } of readLines(source)) {
    if (unit === 'line') {
      if (text.trim() !== '') yield { text };
      continue;
    }
    if (text.trim() === '') {
      if (para.length) yield { text: para.join('\n') };
      para = [];
    } else para.push(text);
  }
  if (para.length) yield { text: para.join('\n') };
}
