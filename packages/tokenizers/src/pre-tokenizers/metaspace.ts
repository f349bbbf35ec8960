import type { NormalizedString } from '../normalized-string.js';
import { StringPattern } from '../pattern.js';
import type { PreTokenizer } from './pre-tokenizer.js';

/** When Metaspace adds its replacement char at the start of a piece. */
export type PrependScheme = 'always' | 'first' | 'never';

/** SentencePiece-style pre-tokenizer: spaces become ▁, optionally split before each ▁. */
export class MetaspacePreTokenizer implements PreTokenizer {
  private readonly space = new StringPattern(' ');
  private readonly marker: StringPattern;
  constructor(readonly replacement: string, readonly prependScheme: PrependScheme, readonly splitPieces: boolean) {
    this.marker = new StringPattern(replacement);
  }

  split(piece: NormalizedString): NormalizedString[] {
    piece.replace(this.space, this.replacement);
    const starts = piece.normalized.startsWith(this.replacement);
    if (this.prependScheme === 'always' && !starts) piece.prepend(this.replacement);
    else if (this.prependScheme === 'first' && !starts && piece.originalShift === 0) piece.prepend(this.replacement);
    return this.splitPieces ? piece.split(this.marker, 'MergedWithNext') : [piece];
  }

  toJSON(): Record<string, unknown> {
    return { type: 'Metaspace', replacement: this.replacement, prepend_scheme: this.prependScheme, split: this.splitPieces };
  }
}
