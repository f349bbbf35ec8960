import { embedding, type Tensor } from '@tessera/tensor';
import { normal, type InitOptions } from './init.js';
import { Module } from './module.js';

/** A lookup table of `num` vectors of size `dim` (initialised N(0, 1) as PyTorch does). */
export class Embedding extends Module {
  weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: InitOptions = {}) {
    super();
    this.weight = this.param('weight', normal([numEmbeddings, embeddingDim], 1, opts));
  }

  /** Integer ids of any shape -> (..., dim). */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}
