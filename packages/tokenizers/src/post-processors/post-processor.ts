import type { Encoding } from '../encoding.js';

/** A post-processing stage: adds special tokens around one or two encodings. */
export interface PostProcessor {
  /** How many tokens `process` adds for a single text (false) or a pair (true). */
  addedTokens(isPair: boolean): number;
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding;
  toJSON(): Record<string, unknown>;
}
