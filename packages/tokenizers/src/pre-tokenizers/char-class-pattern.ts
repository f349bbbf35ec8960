import type { MatchList, Pattern } from '../normalized-string.js';
import { charLengthAt } from '../normalized-string.js';

/** A pattern matching single chars that satisfy a predicate (Rust's `Fn(char) -> bool` pattern). */
export class CharClassPattern implements Pattern {
  constructor(readonly test: (c: string) => boolean) {}

  /** Each matching char is its own match; runs of other chars are non-matches. */
  findMatches(s: string): MatchList {
    if (s.length === 0) return [[0, 0, false]];
    const out: MatchList = [];
    let prev = 0;
    for (let i = 0; i < s.length; ) {
      const w = charLengthAt(s, i);
      if (this.test(s.slice(i, i + w))) {
        if (i > prev) out.push([prev, i, false]);
        out.push([i, i + w, true]);
        prev = i + w;
      }
      i += w;
    }
    if (prev < s.length) out.push([prev, s.length, false]);
    return out;
  }
}
