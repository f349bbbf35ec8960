import type { Decoder } from './decoder.js';
import { cleanupWordPiece } from './word-piece.js';

/** Connectionist temporal classification output (wav2vec2): collapse repeats, drop pads, '|' → space. */
export class CtcDecoder implements Decoder {
  constructor(readonly padToken: string, readonly wordDelimiterToken: string, readonly cleanup: boolean) {}
  decodeChain(tokens: string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      // Consecutive duplicates collapse into one before anything else (Rust `dedup`).
      if (i > 0 && tokens[i] === tokens[i - 1]) continue;
      let t = tokens[i]!.split(this.padToken).join('');
      if (this.cleanup) t = cleanupWordPiece(t).split(this.wordDelimiterToken).join(' ');
      if (t.length > 0) out.push(t);
    }
    return out;
  }
  toJSON(): Record<string, unknown> {
    return { type: 'CTC', pad_token: this.padToken, word_delimiter_token: this.wordDelimiterToken, cleanup: this.cleanup };
  }
}
