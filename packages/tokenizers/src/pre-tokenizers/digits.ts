import type { NormalizedString } from '../normalized-string.js';
import { CharClassPattern } from './char-class-pattern.js';
import type { PreTokenizer } from './pre-tokenizer.js';

const NUMERIC = /^[\p{Nd}\p{Nl}\p{No}]$/u;

/** Splits digits off the text, each digit alone or runs of digits together. */
export class DigitsPreTokenizer implements PreTokenizer {
  private readonly pattern = new CharClassPattern((c) => NUMERIC.test(c));
  constructor(readonly individualDigits: boolean) {}
  split(piece: NormalizedString): NormalizedString[] {
    return piece.split(this.pattern, this.individualDigits ? 'Isolated' : 'Contiguous');
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Digits', individual_digits: this.individualDigits };
  }
}
