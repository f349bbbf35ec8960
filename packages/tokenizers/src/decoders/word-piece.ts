import type { Decoder } from './decoder.js';

/** The tokenization-space cleanup of the Rust WordPiece decoder. */
export function cleanupWordPiece(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Joins WordPiece tokens: continuation pieces lose their prefix, others get a space. */
export class WordPieceDecoder implements Decoder {
  constructor(readonly prefix: string, readonly cleanup: boolean) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((t, i) => {
      let s = t;
      if (i !== 0) s = s.startsWith(this.prefix) ? s.slice(this.prefix.length) : ' ' + s;
      return this.cleanup ? cleanupWordPiece(s) : s;
    });
  }
  toJSON(): Record<string, unknown> {
    return { type: 'WordPiece', prefix: this.prefix, cleanup: this.cleanup };
  }
}
