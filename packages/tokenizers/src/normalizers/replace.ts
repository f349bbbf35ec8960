import type { NormalizedString, Pattern } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';

/** Replaces every match of a pattern by fixed content. */
export class ReplaceNormalizer implements Normalizer {
  constructor(readonly pattern: Pattern, readonly content: string, private readonly json: Record<string, unknown>) {}
  normalize(n: NormalizedString): void {
    n.replace(this.pattern, this.content);
  }
  toJSON(): Record<string, unknown> {
    return this.json;
  }
}
