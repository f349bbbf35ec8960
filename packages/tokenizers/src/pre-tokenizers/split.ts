import type { NormalizedString, Pattern, SplitBehavior } from '../normalized-string.js';
import type { PreTokenizer } from './pre-tokenizer.js';

/** Splits on a pattern with a delimiter behaviour, optionally inverting the matches. */
export class SplitPreTokenizer implements PreTokenizer {
  constructor(readonly pattern: Pattern, readonly behavior: SplitBehavior, readonly invert: boolean, private readonly json: Record<string, unknown>) {}
  split(piece: NormalizedString): NormalizedString[] {
    return piece.split(this.pattern, this.behavior, this.invert);
  }
  toJSON(): Record<string, unknown> {
    return this.json;
  }
}
