import type { NormalizedString } from '../normalized-string.js';
import { isWhitespace } from '../normalized-string.js';
import { RegexPattern } from '../pattern.js';
import { CharClassPattern } from './char-class-pattern.js';
import type { PreTokenizer } from './pre-tokenizer.js';

// Rust regex's Unicode `\w`.
const WORD = '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';

/** The Whitespace pre-tokenizer: keeps runs of word chars and runs of other non-space chars. */
export class WhitespacePreTokenizer implements PreTokenizer {
  private readonly pattern = new RegexPattern(`${WORD}+|[^\\s${WORD.slice(1, -1)}]+`);
  split(piece: NormalizedString): NormalizedString[] {
    return piece.split(this.pattern, 'Removed', true);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Whitespace' };
  }
}

/** The WhitespaceSplit pre-tokenizer: splits on whitespace, dropping it. */
export class WhitespaceSplitPreTokenizer implements PreTokenizer {
  private readonly pattern = new CharClassPattern(isWhitespace);
  split(piece: NormalizedString): NormalizedString[] {
    return piece.split(this.pattern, 'Removed');
  }
  toJSON(): Record<string, unknown> {
    return { type: 'WhitespaceSplit' };
  }
}
