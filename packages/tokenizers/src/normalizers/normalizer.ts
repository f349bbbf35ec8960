import type { NormalizedString } from '../normalized-string.js';

/** A normalization stage: edits a NormalizedString in place, keeping alignments. */
export interface Normalizer {
  /** Normalizes the text in place, keeping its alignment to the original. */
  normalize(n: NormalizedString): void;
  /** The tokenizer.json object this stage was read from (or would be written as). */
  toJSON(): Record<string, unknown>;
}
