/** Python's `string.punctuation`. */
export const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const PUNCT = new Set(ASCII_PUNCTUATION);
// Python 3's \b is Unicode-aware, JS's is ASCII-only: spell the word boundary out.
const ARTICLES = /(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu;

/** SQuAD's `normalize_answer`: lower-case, drop ASCII punctuation and the articles a/an/the, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  let t = s.toLowerCase();
  t = [...t].filter((c) => !PUNCT.has(c)).join('');
  t = t.replace(ARTICLES, ' ');
  return t.split(/\s+/).filter((w) => w.length > 0).join(' ');
}
