import { CHAR_TO_BYTE } from '../pre-tokenizers/byte-level.js';
import type { Decoder } from './decoder.js';

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const encoder = new TextEncoder();

/** Maps byte-level chars back to bytes and decodes them as UTF-8 (invalid bytes become U+FFFD). */
export class ByteLevelDecoder implements Decoder {
  constructor(private readonly json: Record<string, unknown> = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }) {}
  decodeChain(tokens: string[]): string[] {
    const bytes: number[] = [];
    for (const t of tokens) {
      const start = bytes.length;
      let ok = true;
      for (let i = 0; i < t.length; i++) {
        const b = CHAR_TO_BYTE.get(t.charCodeAt(i));
        if (b === undefined) { ok = false; break; }
        bytes.push(b);
      }
      // A token with chars outside the byte alphabet (an added token) is taken as plain text.
      if (!ok) {
        bytes.length = start;
        for (const b of encoder.encode(t)) bytes.push(b);
      }
    }
    return [utf8.decode(Uint8Array.from(bytes))];
  }
  toJSON(): Record<string, unknown> {
    return this.json;
  }
}
