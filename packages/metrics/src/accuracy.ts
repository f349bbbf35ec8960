import type { StreamingMetric } from './metric.js';

/** Fraction of positions where prediction equals label, skipping `ignoreIndex` labels. */
export interface AccuracyResult {
  accuracy: number;
  correct: number;
  total: number;
}

/** Accumulates (prediction, label) pairs; labels equal to `ignoreIndex` (default -100) are skipped. */
export class AccuracyAccumulator<T = number> implements StreamingMetric<[predictions: ArrayLike<T>, labels: ArrayLike<T>], AccuracyResult> {
  private correct = 0;
  private total = 0;

  constructor(private readonly ignoreIndex: T | null = -100 as T) {}

  update(predictions: ArrayLike<T>, labels: ArrayLike<T>): void {
    if (predictions.length !== labels.length) throw new Error(`accuracy: ${predictions.length} predictions but ${labels.length} labels; pass parallel arrays`);
    for (let i = 0; i < labels.length; i++) {
      if (this.ignoreIndex !== null && labels[i] === this.ignoreIndex) continue;
      this.total++;
      if (predictions[i] === labels[i]) this.correct++;
    }
  }

  compute(): AccuracyResult {
    return { accuracy: this.total === 0 ? 0 : this.correct / this.total, correct: this.correct, total: this.total };
  }

  reset(): void {
    this.correct = this.total = 0;
  }
}

/** Accuracy of predictions against labels, skipping `ignoreIndex`. */
export function accuracy<T = number>(predictions: ArrayLike<T>, labels: ArrayLike<T>, ignoreIndex: T | null = -100 as T): AccuracyResult {
  const acc = new AccuracyAccumulator<T>(ignoreIndex);
  acc.update(predictions, labels);
  return acc.compute();
}
