import type { Tensor } from '@tessera/tensor';
import { runBackward, seedFor } from './engine.js';

/**
 * Back-propagates from `loss` and accumulates dloss/dp into `p.grad` of every leaf p that requires
 * grad (PyTorch's `loss.backward()`); call `zeroGrad` between steps unless accumulating on purpose.
 */
export function backward(loss: Tensor, opts: { gradient?: Tensor; createGraph?: boolean } = {}): void {
  const seed = seedFor(loss, opts.gradient, 'backward');
  try {
    runBackward(loss, seed, { createGraph: opts.createGraph ?? false, leafMode: 'accumulate' });
  } finally {
    if (seed !== opts.gradient && loss.grad !== seed) seed.dispose();
  }
}

/** Disposes and clears `.grad` of each tensor. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}
