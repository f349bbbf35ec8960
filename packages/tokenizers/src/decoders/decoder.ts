/** A decoding stage: rewrites the list of token strings (Rust `decode_chain`). */
export interface Decoder {
  decodeChain(tokens: string[]): string[];
  toJSON(): Record<string, unknown>;
}
