import type { Encoding } from '../encoding.js';

/** A post-processing stage: adds special tokens around one or two encodings. */
export interface PostProcessor {
  /** How many tokens `process` adds for a single text (false) or a pair (true). */
  addedTokens(isPair: boolean): number;
  /** Combines the encoding(s), adding special tokens when asked. */
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding;
  /** The tokenizer.json object of this stage. */
  toJSON(): Record<string, unknown>;
}
