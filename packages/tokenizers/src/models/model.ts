/** Tokens a model produced for one word: ids with [start, end) UTF-16 offsets in the word. */
export interface WordTokens {
  ids: ArrayLike<number>;
  /** Flat pairs: start0, end0, start1, end1, ... */
  offsets: ArrayLike<number>;
  /** Token strings when they differ from the vocabulary entry of the id (Unigram's unknown pieces). */
  values?: Array<string | undefined>;
}

/** A tokenization model: turns one pre-tokenized word into vocabulary ids. */
export interface Model {
  tokenize(word: string): WordTokens;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Number of entries in the model's vocabulary (without added tokens). */
  readonly vocabSize: number;
  getVocab(): Map<string, number>;
  toJSON(): Record<string, unknown>;
}
