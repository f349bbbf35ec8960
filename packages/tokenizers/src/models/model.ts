/** Tokens a model produced for one word: ids with [start, end) UTF-16 offsets in the word. */
export interface WordTokens {
  ids: ArrayLike<number>;
  /** Flat pairs: start0, end0, start1, end1, ... */
  offsets: ArrayLike<number>;
  /** Token strings when they differ from the vocabulary entry of the id (Unigram's unknown pieces). */
  values?: Array<string | undefined>;
}

/** BPE dropout for one encode call: each merge is skipped with probability `rate`, drawn from `random`. */
export interface MergeDropout {
  rate: number;
  random: () => number;
}

/** A tokenization model: turns one pre-tokenized word into vocabulary ids. */
export interface Model {
  /** Splits one word into vocabulary tokens with offsets in the word (`dropout` applies to BPE only). */
  tokenize(word: string, dropout?: MergeDropout | null): WordTokens;
  /** Id of a vocabulary token. */
  tokenToId(token: string): number | undefined;
  /** Vocabulary token of an id. */
  idToToken(id: number): string | undefined;
  /** Number of entries in the model's vocabulary (without added tokens). */
  readonly vocabSize: number;
  /** A copy of the vocabulary. */
  getVocab(): Map<string, number>;
  /** The tokenizer.json `model` object. */
  toJSON(): Record<string, unknown>;
}
