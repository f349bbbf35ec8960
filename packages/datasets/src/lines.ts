import { textChunks, type DataSource } from './data-source.js';

/** One line of a text source and its 1-based line number. */
export interface Line {
  text: string;
  lineNumber: number;
}

/** Streams the lines of a source (LF or CRLF endings, a leading BOM dropped). */
export async function* readLines(source: DataSource): AsyncGenerator<Line> {
  let buffer = '';
  let lineNumber = 0;
  let first = true;
  for await (let chunk of textChunks(source)) {
    if (first && chunk.length > 0) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    buffer += chunk;
    let at: number;
    let from = 0;
    while ((at = buffer.indexOf('\n', from)) >= 0) {
      const raw = buffer.slice(from, at);
      yield { text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, lineNumber: ++lineNumber };
      from = at + 1;
    }
    buffer = buffer.slice(from);
  }
  if (buffer.length > 0) yield { text: buffer.endsWith('\r') ? buffer.slice(0, -1) : buffer, lineNumber: ++lineNumber };
}
