import { inRanges, PUNCT_ONLY_JS, PUNCT_ONLY_RUST } from '../char-class-exceptions.js';
import type { NormalizedString, SplitBehavior } from '../normalized-string.js';
import { CharClassPattern } from './char-class-pattern.js';
import type { PreTokenizer } from './pre-tokenizer.js';

const UNICODE_PUNCT = /^\p{P}$/u;

/** BERT's punctuation: ASCII punctuation or a Unicode P* char (in the Rust library's Unicode version). */
export function isPunctuation(c: string): boolean {
  const cp = c.charCodeAt(0);
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  if (cp < 0x80) return false;
  const full = c.codePointAt(0)!;
  if (UNICODE_PUNCT.test(c)) return !inRanges(full, PUNCT_ONLY_JS);
  return inRanges(full, PUNCT_ONLY_RUST);
}

/** Splits on punctuation chars with the given behaviour. */
export class PunctuationPreTokenizer implements PreTokenizer {
  private readonly pattern = new CharClassPattern(isPunctuation);
  constructor(readonly behavior: SplitBehavior = 'Isolated') {}
  split(piece: NormalizedString): NormalizedString[] {
    return piece.split(this.pattern, this.behavior);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Punctuation', behavior: this.behavior };
  }
}
