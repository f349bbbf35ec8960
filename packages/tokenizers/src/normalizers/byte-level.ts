import type { NormalizedString } from '../normalized-string.js';
import { byteLevelTransform } from '../pre-tokenizers/byte-level.js';
import type { Normalizer } from './normalizer.js';

/** The ByteLevel normalizer: every UTF-8 byte becomes its printable GPT-2 char, with no split. */
export class ByteLevelNormalizer implements Normalizer {
  normalize(n: NormalizedString): void {
    byteLevelTransform(n);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'ByteLevel' };
  }
}
