import { mul, tidy, withGradMode, type Tensor } from '@tessera/tensor';

/**
 * Gradient accumulation normalised by target tokens: each micro-batch back-propagates its summed
 * loss (crossEntropy with reduction 'sum') and reports its target count; `finish` divides the
 * accumulated gradients by the total, so every token weighs the same however the tokens fall into
 * micro-batches (averaging per micro-batch would over-weight short ones).
 */
export class TokenAccumulator {
  #tokens = 0;

  /** Records a micro-batch's number of target (non-ignored) tokens. */
  add(numTargets: number): void {
    if (!Number.isInteger(numTargets) || numTargets < 0) throw new RangeError(`TokenAccumulator.add: target count must be a non-negative integer (got ${numTargets})`);
    this.#tokens += numTargets;
  }

  /** Target tokens so far. */
  get tokens(): number {
    return this.#tokens;
  }

  /** Divides every gradient by the token total and resets; returns the total. */
  finish(params: Iterable<Tensor>): number {
    const total = this.#tokens;
    this.#tokens = 0;
    if (total === 0) return 0;
    withGradMode(false, () =>
      tidy(() => {
        for (const p of params) if (p.grad) p.grad.assign(mul(p.grad, 1 / total).cast(p.grad.dtype));
      }),
    );
    return total;
  }
}
