import { dropout, type Generator, type Tensor } from '@tessera/tensor';
import { Module } from './module.js';

/** Inverted dropout while training; the identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.1, readonly generator?: Generator) {
    super();
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }
}
