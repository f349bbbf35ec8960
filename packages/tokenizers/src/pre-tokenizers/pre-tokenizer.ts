import type { NormalizedString } from '../normalized-string.js';

/** A pre-tokenization stage: cuts one piece of text into smaller pieces. */
export interface PreTokenizer {
  split(piece: NormalizedString): NormalizedString[];
  /** The tokenizer.json object this stage was read from (or would be written as). */
  toJSON(): Record<string, unknown>;
}
