import { inRanges, WORD_ONLY_JS, WORD_ONLY_RUST } from '../char-class-exceptions.js';
import type { MatchList, NormalizedString, Pattern } from '../normalized-string.js';
import { charLengthAt, isWhitespace } from '../normalized-string.js';
import { CharClassPattern } from './char-class-pattern.js';
import type { PreTokenizer } from './pre-tokenizer.js';

const WORD = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;

/** The Rust regex crate's `\w`, in the Unicode version of the reference library. */
export function isWordChar(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if (cp < 0x80) return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f;
  if (WORD.test(c)) return !inRanges(cp, WORD_ONLY_JS);
  return inRanges(cp, WORD_ONLY_RUST);
}

// `\w+|[^\w\s]+` as a scan: runs of word chars and runs of other non-space chars match.
const wordOrSymbolRuns: Pattern = {
  findMatches(s: string): MatchList {
    if (s.length === 0) return [[0, 0, false]];
    const out: MatchList = [];
    let prev = 0;
    let i = 0;
    const kind = (c: string): number => (isWhitespace(c) ? 0 : isWordChar(c) ? 1 : 2);
    while (i < s.length) {
      const w = charLengthAt(s, i);
      const k = kind(s.slice(i, i + w));
      if (k === 0) { i += w; continue; }
      let j = i + w;
      while (j < s.length) {
        const w2 = charLengthAt(s, j);
        if (kind(s.slice(j, j + w2)) !== k) break;
        j += w2;
      }
      if (i > prev) out.push([prev, i, false]);
      out.push([i, j, true]);
      prev = j;
      i = j;
    }
    if (prev < s.length) out.push([prev, s.length, false]);
    return out;
  },
};

/** The Whitespace pre-tokenizer: keeps runs of word chars and runs of other non-space chars. */
export class WhitespacePreTokenizer implements PreTokenizer {
  split(piece: NormalizedString): NormalizedString[] {
    return piece.split(wordOrSymbolRuns, 'Removed', true);
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
