/** A decoding stage: rewrites the list of token strings (Rust `decode_chain`). */
export interface Decoder {
  /** Rewrites the token strings; the tokenizer joins the final list. */
  decodeChain(tokens: string[]): string[];
  /** The tokenizer.json object of this stage. */
  toJSON(): Record<string, unknown>;
}
