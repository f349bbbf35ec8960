import type { Model, WordTokens } from './model.js';

/** Options of a WordPiece model, as in tokenizer.json. */
export interface WordPieceOptions {
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
}

/** Greedy longest-match-first WordPiece (BERT). */
export class WordPiece implements Model {
  private readonly vocabR: string[] = [];
  private readonly unkId: number;

  constructor(readonly vocab: Map<string, number>, readonly options: WordPieceOptions) {
    for (const [t, id] of vocab) this.vocabR[id] = t;
    const unk = vocab.get(options.unkToken);
    if (unk === undefined) throw new Error(`model.unk_token: ${JSON.stringify(options.unkToken)} is not in model.vocab; add it to the vocabulary or change unk_token`);
    this.unkId = unk;
  }

  /** Number of vocabulary entries. */
  get vocabSize(): number {
    return this.vocab.size;
  }

  /** Id of a vocabulary token. */
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Vocabulary token of an id. */
  idToToken(id: number): string | undefined {
    return this.vocabR[id];
  }

  /** A copy of the vocabulary. */
  getVocab(): Map<string, number> {
    return new Map(this.vocab);
  }

  /** Splits one word into the longest vocabulary pieces, or one unknown token. */
  tokenize(word: string): WordTokens {
    const n = word.length;
    let chars = 0;
    for (const _ of word) chars++;
    if (chars > this.options.maxInputCharsPerWord) return { ids: [this.unkId], offsets: [0, n] };
    const ids: number[] = [];
    const offsets: number[] = [];
    let start = 0;
    while (start < n) {
      let end = n;
      let found = -1;
      while (start < end) {
        const sub = start > 0 ? this.options.continuingSubwordPrefix + word.slice(start, end) : word.slice(start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) { found = id; break; }
        const last = word.charCodeAt(end - 1);
        end -= last >= 0xdc00 && last <= 0xdfff && end - 2 >= start ? 2 : 1;
      }
      if (found < 0) return { ids: [this.unkId], offsets: [0, n] };
      ids.push(found);
      offsets.push(start, end);
      start = end;
    }
    return { ids, offsets };
  }

  /** The tokenizer.json `model` object. */
  toJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    for (const [t, id] of [...this.vocab].sort((a, b) => a[1] - b[1])) vocab[t] = id;
    return { type: 'WordPiece', unk_token: this.options.unkToken, continuing_subword_prefix: this.options.continuingSubwordPrefix, max_input_chars_per_word: this.options.maxInputCharsPerWord, vocab };
  }
}
