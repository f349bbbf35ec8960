import type { NormalizedString } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';

/** Prepends fixed text to every non-empty piece. */
export class PrependNormalizer implements Normalizer {
  constructor(readonly prefix: string) {}
  normalize(n: NormalizedString): void {
    n.prepend(this.prefix);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Prepend', prepend: this.prefix };
  }
}
