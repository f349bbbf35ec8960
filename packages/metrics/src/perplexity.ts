import type { StreamingMetric } from './metric.js';

/** Mean token loss (nats) and its exponential, over the tokens seen. */
export interface PerplexityResult {
  meanLoss: number;
  perplexity: number;
  tokens: number;
}

/** Accumulates per-token negative log-likelihoods (or batch sums) into mean loss and perplexity. */
export class PerplexityAccumulator implements StreamingMetric<[losses: ArrayLike<number>, mask?: ArrayLike<number>], PerplexityResult> {
  private sum = 0;
  private count = 0;

  /** Adds per-token losses; tokens whose mask is 0 are skipped. */
  update(losses: ArrayLike<number>, mask?: ArrayLike<number>): void {
    if (mask && mask.length !== losses.length) throw new Error(`perplexity: ${losses.length} losses but ${mask.length} mask entries; pass one mask value per token`);
    for (let i = 0; i < losses.length; i++) {
      if (mask && mask[i] === 0) continue;
      const l = losses[i]!;
      if (!Number.isFinite(l)) throw new Error(`perplexity: loss of token ${i} is ${l}; expected a finite negative log-likelihood`);
      this.sum += l;
      this.count++;
    }
  }

  /** Adds a batch already reduced to a summed loss over `tokens` tokens (what a trainer usually has). */
  updateSum(sumLoss: number, tokens: number): void {
    if (!(tokens >= 0) || !Number.isFinite(sumLoss)) throw new Error(`perplexity: updateSum(${sumLoss}, ${tokens}); expected a finite sum and a token count ≥ 0`);
    this.sum += sumLoss;
    this.count += tokens;
  }

  compute(): PerplexityResult {
    // Summing before dividing keeps the corpus mean exact whatever the batch sizes were.
    const meanLoss = this.count === 0 ? Number.NaN : this.sum / this.count;
    return { meanLoss, perplexity: Math.exp(meanLoss), tokens: this.count };
  }

  reset(): void {
    this.sum = this.count = 0;
  }
}

/** Perplexity = exp(mean negative log-likelihood per token). */
export function perplexity(losses: ArrayLike<number>, mask?: ArrayLike<number>): PerplexityResult {
  const acc = new PerplexityAccumulator();
  acc.update(losses, mask);
  return acc.compute();
}

/** Per-token negative log-likelihoods from flat logits (T × V, row-major) and target ids; targets equal to `ignoreIndex` give NaN-free zeros and a 0 mask. */
export function tokenLosses(logits: ArrayLike<number>, vocabSize: number, targets: ArrayLike<number>, ignoreIndex = -100): { losses: Float64Array; mask: Uint8Array } {
  if (logits.length !== targets.length * vocabSize) throw new Error(`tokenLosses: logits has ${logits.length} values, expected targets.length × vocabSize = ${targets.length} × ${vocabSize}`);
  const losses = new Float64Array(targets.length);
  const mask = new Uint8Array(targets.length);
  for (let t = 0; t < targets.length; t++) {
    const y = targets[t]!;
    if (y === ignoreIndex) continue;
    if (y < 0 || y >= vocabSize) throw new Error(`tokenLosses: target ${y} at position ${t} is outside [0, ${vocabSize}); use ${ignoreIndex} for ignored positions`);
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v++) max = Math.max(max, logits[t * vocabSize + v]!);
    let s = 0;
    for (let v = 0; v < vocabSize; v++) s += Math.exp(logits[t * vocabSize + v]! - max);
    losses[t] = max + Math.log(s) - logits[t * vocabSize + y]!;
    mask[t] = 1;
  }
  return { losses, mask };
}
