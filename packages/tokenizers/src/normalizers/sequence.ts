import type { NormalizedString } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';

/** Runs normalizers one after another. */
export class SequenceNormalizer implements Normalizer {
  constructor(readonly normalizers: Normalizer[]) {}
  normalize(n: NormalizedString): void {
    for (const s of this.normalizers) s.normalize(n);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', normalizers: this.normalizers.map((s) => s.toJSON()) };
  }
}
