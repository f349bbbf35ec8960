import type { NormalizedString } from '../normalized-string.js';
import { isWhitespace } from '../normalized-string.js';
import { CharClassPattern } from './char-class-pattern.js';
import type { PreTokenizer } from './pre-tokenizer.js';
import { isPunctuation } from './punctuation.js';

/** BERT's pre-tokenizer: split on whitespace (dropped), then isolate punctuation. */
export class BertPreTokenizer implements PreTokenizer {
  private readonly space = new CharClassPattern(isWhitespace);
  private readonly punct = new CharClassPattern(isPunctuation);
  split(piece: NormalizedString): NormalizedString[] {
    return piece.split(this.space, 'Removed').flatMap((p) => p.split(this.punct, 'Isolated'));
  }
  toJSON(): Record<string, unknown> {
    return { type: 'BertPreTokenizer' };
  }
}
