import type { NormalizedString } from '../normalized-string.js';
import type { PreTokenizer } from './pre-tokenizer.js';

/** Runs pre-tokenizers in order, each on every piece the previous one produced. */
export class SequencePreTokenizer implements PreTokenizer {
  constructor(readonly stages: PreTokenizer[]) {}
  split(piece: NormalizedString): NormalizedString[] {
    let pieces = [piece];
    for (const s of this.stages) pieces = pieces.flatMap((p) => s.split(p));
    return pieces;
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', pretokenizers: this.stages.map((s) => s.toJSON()) };
  }
}
