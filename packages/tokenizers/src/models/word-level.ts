import type { Model, WordTokens } from './model.js';

/** One id per whole word, or the unknown token. */
export class WordLevel implements Model {
  private readonly vocabR: string[] = [];
  constructor(readonly vocab: Map<string, number>, readonly unkToken: string) {
    for (const [t, id] of vocab) this.vocabR[id] = t;
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
  /** Looks the whole word up. */
  tokenize(word: string): WordTokens {
    const id = this.vocab.get(word) ?? this.vocab.get(this.unkToken);
    if (id === undefined) throw new Error(`word-level: ${JSON.stringify(word)} is not in model.vocab and unk_token ${JSON.stringify(this.unkToken)} is missing; add the unk token to the vocabulary`);
    return { ids: [id], offsets: [0, word.length] };
  }
  /** The tokenizer.json `model` object. */
  toJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    for (const [t, id] of [...this.vocab].sort((a, b) => a[1] - b[1])) vocab[t] = id;
    return { type: 'WordLevel', vocab, unk_token: this.unkToken };
  }
}
