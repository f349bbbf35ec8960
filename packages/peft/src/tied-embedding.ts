import { Module, type Embedding } from '@tessera/nn';
import type { Tensor } from '@tessera/tensor';

/**
 * A token embedding in modules_to_save whose output head is tied to it, split as PEFT splits it:
 * PEFT's ModulesToSaveWrapper trains a deep copy of the embedding while the tied head keeps
 * reading the original Parameter. Tessera's models read the tied head from the embedding module's
 * `weight` field, so this wrapper trains the embedding's own tensor (registered under its own
 * name, `embed_tokens.weight`, so the state dict and the adapter file keep PEFT's keys) and hands
 * the head, through `weight`, the frozen original values.
 */
export class TiedEmbeddingCopy extends Module {
  readonly embedding: Embedding;
  /** The original table: what the tied head reads. */
  readonly headWeight: Tensor;

  constructor(embedding: Embedding, headWeight: Tensor) {
    super();
    this.embedding = embedding;
    this.headWeight = headWeight;
    this.param('weight', embedding.weight);
  }

  /** The table the tied output head multiplies by: the original, never trained. */
  get weight(): Tensor {
    return this.headWeight;
  }
  /** Rows of the table (the vocabulary size), as the wrapped Embedding's. */
  get numEmbeddings(): number {
    return this.embedding.numEmbeddings;
  }
  /** Width of each row (the hidden size), as the wrapped Embedding's. */
  get embeddingDim(): number {
    return this.embedding.embeddingDim;
  }

  /** Integer ids of any shape -> (..., dim), from the trained table. */
  forward(ids: Tensor): Tensor {
    return this.embedding.forward(ids);
  }
}
