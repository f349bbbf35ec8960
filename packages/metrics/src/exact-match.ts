import type { StreamingMetric } from './metric.js';
import { ASCII_PUNCTUATION, normalizeAnswer } from './normalize-answer.js';

/** Normalisation before comparing (the options of Hugging Face evaluate's `exact_match`, plus SQuAD's). */
export interface ExactMatchOptions {
  /** Regular expressions removed from both strings first, in order. */
  regexesToIgnore?: Array<string | RegExp>;
  ignoreCase?: boolean;
  /** Removes Python's `string.punctuation`. */
  ignorePunctuation?: boolean;
  /** Removes the digits 0-9. */
  ignoreNumbers?: boolean;
  /** Applies SQuAD's `normalize_answer` (after the options above). */
  squad?: boolean;
}

const PUNCT_RE = new RegExp(`[${ASCII_PUNCTUATION.replace(/[\\\]^-]/g, '\\$&')}]`, 'g');

/** A string as `ExactMatchOptions` normalise it. */
export function normalizeForMatch(s: string, options: ExactMatchOptions = {}): string {
  let t = s;
  for (const r of options.regexesToIgnore ?? []) t = t.replace(typeof r === 'string' ? new RegExp(r, 'g') : new RegExp(r.source, r.flags.includes('g') ? r.flags : r.flags + 'g'), '');
  if (options.ignoreCase) t = t.toLowerCase();
  if (options.ignorePunctuation) t = t.replace(PUNCT_RE, '');
  if (options.ignoreNumbers) t = t.replace(/[0-9]/g, '');
  if (options.squad) t = normalizeAnswer(t);
  return t;
}

/** Fraction of predictions equal (after normalisation) to their reference, or to any of their references. */
export interface ExactMatchResult {
  exactMatch: number;
  matches: number;
  total: number;
}

/** Accumulates prediction/reference pairs for exact match. */
export class ExactMatchAccumulator implements StreamingMetric<[predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>], ExactMatchResult> {
  private matches = 0;
  private total = 0;

  constructor(private readonly options: ExactMatchOptions = {}) {}

  update(predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>): void {
    if (predictions.length !== references.length) throw new Error(`exactMatch: ${predictions.length} predictions but ${references.length} references; pass one reference (or list) per prediction`);
    predictions.forEach((p, i) => {
      const refs = references[i]!;
      const np = normalizeForMatch(p, this.options);
      if ((typeof refs === 'string' ? [refs] : refs).some((r) => normalizeForMatch(r, this.options) === np)) this.matches++;
      this.total++;
    });
  }

  compute(): ExactMatchResult {
    return { exactMatch: this.total === 0 ? 0 : this.matches / this.total, matches: this.matches, total: this.total };
  }

  reset(): void {
    this.matches = this.total = 0;
  }
}

/** Exact match rate in [0, 1]. */
export function exactMatch(predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>, options: ExactMatchOptions = {}): ExactMatchResult {
  const acc = new ExactMatchAccumulator(options);
  acc.update(predictions, references);
  return acc.compute();
}
