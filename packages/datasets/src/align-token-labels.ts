import type { Tokenizer } from '@tessera/tokenizers';
import { IGNORE_INDEX } from './tokenize-chat.js';

/** Options of `alignTokenLabels`. */
export interface AlignTokenLabelsOptions {
  /** Tag → class id; default: tags must already be numbers. */
  labelToId?: Record<string, number> | Map<string, number>;
  /** Which sub-tokens of a word carry its label: the first only (default; the rest get -100), all, or all with B- turned into I- after the first. */
  subTokens?: 'first' | 'all' | 'all-inside';
  /** Add the tokenizer's special tokens ([CLS]/[SEP], BOS); they get -100. Default true. */
  addSpecialTokens?: boolean;
  /** Cut to this many tokens. */
  maxLength?: number;
}

/** Ids, per-token labels and, per token, the index of the word it came from (null for special tokens and bare separators). */
export interface AlignedTokenLabels {
  inputIds: number[];
  labels: number[];
  attentionMask: number[];
  wordIds: Array<number | null>;
}

/** Tokenises pre-split words with a sub-word tokenizer and carries word-level tags onto the tokens. */
export function alignTokenLabels(tokenizer: Tokenizer, words: readonly string[], tags: ReadonlyArray<string | number>, options: AlignTokenLabelsOptions = {}): AlignedTokenLabels {
  if (words.length !== tags.length) throw new Error(`alignTokenLabels: ${words.length} words but ${tags.length} tags; pass one tag per word`);
  const map = options.labelToId instanceof Map ? options.labelToId : options.labelToId ? new Map(Object.entries(options.labelToId)) : null;
  const idOf = (tag: string | number, i: number): number => {
    if (typeof tag === 'number') return tag;
    const id = map?.get(tag);
    if (id === undefined) throw new Error(`alignTokenLabels: tag ${JSON.stringify(tag)} of word ${i} (${JSON.stringify(words[i])}) has no id; ${map ? 'add it to labelToId' : 'pass { labelToId }'}`);
    return id;
  };
  const insideOf = (tag: string | number, i: number): number => (typeof tag === 'string' && tag.startsWith('B-') && map?.has(`I-${tag.slice(2)}`) ? idOf(`I-${tag.slice(2)}`, i) : idOf(tag, i));
  // Words joined by single spaces: a byte-level BPE then sees " word" as it does in running text.
  const starts: number[] = [];
  let text = '';
  words.forEach((w, i) => {
    if (i > 0) text += ' ';
    starts.push(text.length);
    text += w;
  });
  const enc = tokenizer.encode(text, { addSpecialTokens: options.addSpecialTokens ?? true, offsetUnit: 'utf16' });
  const wordIds: Array<number | null> = [];
  let w = 0;
  for (const [s, e] of enc.offsets) {
    if (e <= s) {
      wordIds.push(null);
      continue;
    }
    // Offsets rise through the text, so the word index only moves forward.
    while (w + 1 < words.length && starts[w]! + words[w]!.length <= s) w++;
    const overlaps = s < starts[w]! + words[w]!.length && e > starts[w]!;
    wordIds.push(overlaps ? w : null);
  }
  const mode = options.subTokens ?? 'first';
  let prev: number | null = null;
  const labels = wordIds.map((wi) => {
    if (wi === null) return IGNORE_INDEX;
    const first = wi !== prev;
    prev = wi;
    if (first) return idOf(tags[wi]!, wi);
    if (mode === 'first') return IGNORE_INDEX;
    return mode === 'all-inside' ? insideOf(tags[wi]!, wi) : idOf(tags[wi]!, wi);
  });
  let ids = enc.ids;
  let lab = labels;
  let wids = wordIds;
  if (options.maxLength !== undefined && ids.length > options.maxLength) {
    ids = ids.slice(0, options.maxLength);
    lab = lab.slice(0, options.maxLength);
    wids = wids.slice(0, options.maxLength);
  }
  return { inputIds: ids, labels: lab, attentionMask: ids.map(() => 1), wordIds: wids };
}

/** Aligns a token-classification record (`{ tokens, tags }` or Hugging Face's `{ tokens, ner_tags }`). */
export function alignTokenClassificationExample(tokenizer: Tokenizer, record: { tokens: string[]; tags?: Array<string | number>; ner_tags?: Array<string | number> }, options: AlignTokenLabelsOptions = {}): AlignedTokenLabels {
  const tags = record.tags ?? record.ner_tags;
  if (!Array.isArray(record.tokens) || !Array.isArray(tags)) throw new Error(`alignTokenClassificationExample: expected { tokens: string[], tags | ner_tags: [...] }, got fields ${Object.keys(record).join(', ')}`);
  return alignTokenLabels(tokenizer, record.tokens, tags, options);
}
