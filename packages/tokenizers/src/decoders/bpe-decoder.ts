import type { Decoder } from './decoder.js';

/** Replaces the end-of-word suffix by a space (and drops it at the very end). */
export class BpeDecoder implements Decoder {
  constructor(readonly suffix: string) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t, i) => t.split(this.suffix).join(i === tokens.length - 1 ? '' : ' '));
  }
  toJSON(): Record<string, unknown> {
    return { type: 'BPEDecoder', suffix: this.suffix };
  }
}
