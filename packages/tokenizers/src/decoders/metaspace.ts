import type { PrependScheme } from '../pre-tokenizers/metaspace.js';
import type { Decoder } from './decoder.js';

/** Turns ▁ back into spaces, dropping the one the pre-tokenizer prepended to the first token. */
export class MetaspaceDecoder implements Decoder {
  constructor(readonly replacement: string, readonly prependScheme: PrependScheme, readonly split: boolean) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t, i) => {
      let s = t.split(this.replacement).join(' ');
      if (i === 0 && this.prependScheme !== 'never' && s.startsWith(' ')) s = s.slice(1);
      return s;
    });
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Metaspace', replacement: this.replacement, prepend_scheme: this.prependScheme, split: this.split };
  }
}
