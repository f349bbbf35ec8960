import type { NormalizedString } from '../normalized-string.js';
import type { PreTokenizer } from './pre-tokenizer.js';

/** Cuts text into pieces of `length` chars (code points), the last one shorter (Rust `FixedLength`). */
export class FixedLengthPreTokenizer implements PreTokenizer {
  constructor(readonly length: number) {}
  split(piece: NormalizedString): NormalizedString[] {
    const s = piece.normalized;
    const out: NormalizedString[] = [];
    let start = 0;
    let chars = 0;
    for (let i = 0; i < s.length; ) {
      const c = s.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
      if (++chars === this.length) {
        out.push(piece.slice(start, i));
        start = i;
        chars = 0;
      }
    }
    if (start < s.length) out.push(piece.slice(start, s.length));
    return out;
  }
  toJSON(): Record<string, unknown> {
    return { type: 'FixedLength', length: this.length };
  }
}
