import type { StreamingMetric } from './metric.js';
import { normalizeAnswer } from './normalize-answer.js';

/** SQuAD v2's token F1 of one prediction against one reference (both normalised with `normalizeAnswer`). */
export function tokenF1(prediction: string, reference: string): number {
  const p = normalizeAnswer(prediction).split(' ').filter(Boolean);
  const g = normalizeAnswer(reference).split(' ').filter(Boolean);
  // SQuAD v2: an empty answer scores 1 only against an empty answer.
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Mean over examples of the best token F1 against each example's references. */
export interface TokenF1Result {
  f1: number;
  total: number;
}

/** Accumulates SQuAD-style token F1 (max over references, mean over examples). */
export class TokenF1Accumulator implements StreamingMetric<[predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>], TokenF1Result> {
  private sum = 0;
  private total = 0;

  update(predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>): void {
    if (predictions.length !== references.length) throw new Error(`tokenF1: ${predictions.length} predictions but ${references.length} references; pass one reference (or list) per prediction`);
    predictions.forEach((p, i) => {
      const refs = references[i]!;
      this.sum += Math.max(...(typeof refs === 'string' ? [refs] : refs).map((r) => tokenF1(p, r)));
      this.total++;
    });
  }

  compute(): TokenF1Result {
    return { f1: this.total === 0 ? 0 : this.sum / this.total, total: this.total };
  }

  reset(): void {
    this.sum = this.total = 0;
  }
}

/** SQuAD-style token F1 in [0, 1] over a list of predictions. */
export function meanTokenF1(predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>): TokenF1Result {
  const acc = new TokenF1Accumulator();
  acc.update(predictions, references);
  return acc.compute();
}
