import type { Pattern } from '../normalized-string.js';
import type { Decoder } from './decoder.js';

/** Replaces a pattern in every token. */
export class ReplaceDecoder implements Decoder {
  constructor(readonly pattern: Pattern, readonly content: string, private readonly json: Record<string, unknown>) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t) => {
      let out = '';
      for (const [s, e, m] of this.pattern.findMatches(t)) out += m ? this.content : t.slice(s, e);
      return out;
    });
  }
  toJSON(): Record<string, unknown> {
    return this.json;
  }
}
