import { sourceName, type DataSource } from './data-source.js';
import { readLines } from './lines.js';

/** One sentence of a CoNLL file: its tokens, their tags, and every column when asked for. */
export interface ConllSentence {
  tokens: string[];
  tags: string[];
  /** All columns per token (token, POS, chunk, NER... for CoNLL-2003), when `keepColumns` is set. */
  columns?: string[][];
}

/** Options of `readConll`. */
export interface ConllOptions {
  /** Column of the token; default 0. */
  tokenColumn?: number;
  /** Column of the tag; negative counts from the end; default -1 (the NER column of CoNLL-2003). */
  tagColumn?: number;
  keepColumns?: boolean;
}

/** Streams sentences from a CoNLL-2003-style file: one token per line, columns split on whitespace, blank lines between sentences, -DOCSTART- lines skipped. */
export async function* readConll(source: DataSource, options: ConllOptions = {}): AsyncGenerator<ConllSentence> {
  const tokenCol = options.tokenColumn ?? 0;
  const tagCol = options.tagColumn ?? -1;
  let cur: ConllSentence = { tokens: [], tags: [], ...(options.keepColumns ? { columns: [] } : {}) };
  const flush = (): ConllSentence | null => {
    if (cur.tokens.length === 0) return null;
    const s = cur;
    cur = { tokens: [], tags: [], ...(options.keepColumns ? { columns: [] } : {}) };
    return s;
  };
  for await (const { text, lineNumber } of readLines(source)) {
    const line = text.trim();
    if (line === '' || line.startsWith('-DOCSTART-')) {
      const s = flush();
      if (s) yield s;
      continue;
    }
    const cols = line.split(/\s+/);
    const ti = tokenCol < 0 ? cols.length + tokenCol : tokenCol;
    const gi = tagCol < 0 ? cols.length + tagCol : tagCol;
    // ti === gi: a one-column line under the default tagColumn -1 would make the token its own tag.
    if (ti < 0 || ti >= cols.length || gi < 0 || gi >= cols.length || ti === gi) {
      const where = `${sourceName(source)}:${lineNumber}: line has ${cols.length} column(s) (${JSON.stringify(line.slice(0, 60))})`;
      // No column setting reads a token-only line: the tag is missing from the file itself.
      if (cols.length === 1) throw new Error(`${where}; every line needs a token and its tag separated by whitespace (e.g. "EU B-ORG"): add the line's tag, or make it a blank line between sentences`);
      throw new Error(`${where}; tokenColumn ${tokenCol} and tagColumn ${tagCol} ${ti === gi ? 'name the same column' : 'need more'}; set them to the file's layout (0 to ${cols.length - 1}, or negative from the end)`);
    }
    cur.tokens.push(cols[ti]!);
    cur.tags.push(cols[gi]!);
    cur.columns?.push(cols);
  }
  const s = flush();
  if (s) yield s;
}
