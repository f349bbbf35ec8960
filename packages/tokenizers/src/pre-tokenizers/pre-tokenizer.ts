import type { NormalizedString } from '../normalized-string.js';

/** A pre-tokenization stage: cuts one piece of text into smaller pieces. */
export interface PreTokenizer {
  /** Cuts one piece into words (each keeps its alignment to the original). */
  split(piece: NormalizedString): NormalizedString[];
  /** The tokenizer.json object this stage was read from (or would be written as). */
  toJSON(): Record<string, unknown>;
}
