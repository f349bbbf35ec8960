import type { Decoder } from './decoder.js';

/** Removes up to `start` leading and `stop` trailing copies of a char from every token. */
export class StripDecoder implements Decoder {
  constructor(readonly content: string, readonly start: number, readonly stop: number) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t) => {
      const chars = [...t];
      let a = 0;
      while (a < this.start && a < chars.length && chars[a] === this.content) a++;
      let b = chars.length;
      for (let i = 0; i < this.stop && b - 1 >= a; i++) {
        if (chars[b - 1] === this.content) b--;
        else break;
      }
      return chars.slice(a, b).join('');
    });
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Strip', content: this.content, start: this.start, stop: this.stop };
  }
}
