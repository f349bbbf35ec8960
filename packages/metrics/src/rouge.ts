import type { StreamingMetric } from './metric.js';
import { ngramCounts, overlap } from './ngrams.js';
import { porterStem } from './porter-stemmer.js';

/** Precision, recall and F-measure of one ROUGE type. */
export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** ROUGE types supported: n-gram overlap (1, 2), longest common subsequence (L), summary-level LCS over lines (Lsum). */
export type RougeType = 'rouge1' | 'rouge2' | 'rougeL' | 'rougeLsum';

/** Options of ROUGE; the default is rouge-score's (no stemming). */
export interface RougeOptions {
  /** Porter-stem tokens longer than 3 letters (rouge-score's `use_stemmer=True`). */
  useStemmer?: boolean;
}

/** rouge-score's default tokenizer: lower-case, non-alphanumerics become spaces, optional Porter stems. */
export function rougeTokenize(text: string, options: RougeOptions = {}): string[] {
  const tokens = text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/);
  return (options.useStemmer ? tokens.map((t) => (t.length > 3 ? porterStem(t) : t)) : tokens).filter((t) => /^[a-z0-9]+$/.test(t));
}

function score(hits: number, predLen: number, targetLen: number): RougeScore {
  const precision = hits / Math.max(predLen, 1);
  const recall = hits / Math.max(targetLen, 1);
  return { precision, recall, fmeasure: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

function lcsTable(a: readonly string[], b: readonly string[]): number[][] {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
  return t;
}

// rouge-score's _backtrack_norec: indices into `ref` of one LCS.
function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const t = lcsTable(ref, can);
  let i = ref.length;
  let j = can.length;
  const out: number[] = [];
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.unshift(i - 1);
      i--;
      j--;
    } else if (t[i]![j - 1]! > t[i - 1]![j]!) j--;
    else i--;
  }
  return out;
}

function summaryLcs(refSents: string[][], canSents: string[][]): RougeScore {
  const m = refSents.reduce((s, x) => s + x.length, 0);
  const n = canSents.reduce((s, x) => s + x.length, 0);
  if (m === 0 || n === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const cntR = new Map<string, number>();
  const cntC = new Map<string, number>();
  for (const s of refSents) for (const t of s) cntR.set(t, (cntR.get(t) ?? 0) + 1);
  for (const s of canSents) for (const t of s) cntC.set(t, (cntC.get(t) ?? 0) + 1);
  let hits = 0;
  for (const r of refSents) {
    const union = [...new Set(canSents.flatMap((c) => lcsIndices(r, c)))].sort((a, b) => a - b);
    for (const i of union) {
      const t = r[i]!;
      if ((cntC.get(t) ?? 0) > 0 && (cntR.get(t) ?? 0) > 0) {
        hits++;
        cntC.set(t, cntC.get(t)! - 1);
        cntR.set(t, cntR.get(t)! - 1);
      }
    }
  }
  return score(hits, n, m);
}

/** One ROUGE type between a prediction and a target, as rouge-score's `RougeScorer.score(target, prediction)` with defaults. */
export function rougeScore(type: RougeType, prediction: string, target: string, options: RougeOptions = {}): RougeScore {
  if (type === 'rougeLsum') {
    // rouge-score splits summaries on newlines for Lsum.
    const sents = (s: string): string[][] => s.split('\n').filter((x) => x.length > 0).map((x) => rougeTokenize(x, options));
    return summaryLcs(sents(target), sents(prediction));
  }
  const p = rougeTokenize(prediction, options);
  const t = rougeTokenize(target, options);
  if (type === 'rougeL') {
    if (p.length === 0 || t.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
    return score(lcsTable(t, p)[t.length]![p.length]!, p.length, t.length);
  }
  const n = type === 'rouge1' ? 1 : type === 'rouge2' ? 2 : Number.NaN;
  if (Number.isNaN(n)) throw new Error(`rouge: unknown type ${JSON.stringify(type)}; use rouge1, rouge2, rougeL or rougeLsum`);
  const pc = ngramCounts(p, n);
  const tc = ngramCounts(t, n);
  return score(overlap(tc, pc), Math.max(0, p.length - n + 1), Math.max(0, t.length - n + 1));
}

/** Mean precision/recall/F over examples, per ROUGE type. */
export type RougeResult = Record<RougeType, RougeScore>;

const TYPES: RougeType[] = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'];

/** Accumulates per-example ROUGE (best reference by F-measure, like rouge-score's `score_multi`) and averages. */
export class RougeAccumulator implements StreamingMetric<[predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>], RougeResult> {
  private sums = emptySums();
  private count = 0;

  constructor(private readonly options: RougeOptions = {}) {}

  update(predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>): void {
    if (predictions.length !== references.length) throw new Error(`rouge: ${predictions.length} predictions but ${references.length} references; pass one reference (or list) per prediction`);
    predictions.forEach((p, i) => {
      const refs = references[i]!;
      for (const type of TYPES) {
        let best: RougeScore | null = null;
        for (const r of typeof refs === 'string' ? [refs] : refs) {
          const s = rougeScore(type, p, r, this.options);
          if (!best || s.fmeasure > best.fmeasure) best = s;
        }
        if (!best) throw new Error(`rouge: prediction ${i} has no reference; pass at least one`);
        const acc = this.sums[type];
        acc.precision += best.precision;
        acc.recall += best.recall;
        acc.fmeasure += best.fmeasure;
      }
      this.count++;
    });
  }

  compute(): RougeResult {
    const out = emptySums();
    const d = Math.max(this.count, 1);
    for (const t of TYPES) out[t] = { precision: this.sums[t].precision / d, recall: this.sums[t].recall / d, fmeasure: this.sums[t].fmeasure / d };
    return out;
  }

  reset(): void {
    this.sums = emptySums();
    this.count = 0;
  }
}

function emptySums(): RougeResult {
  return Object.fromEntries(TYPES.map((t) => [t, { precision: 0, recall: 0, fmeasure: 0 }])) as RougeResult;
}

/** Mean ROUGE-1/2/L/Lsum over examples (Hugging Face evaluate's `rouge` without bootstrap aggregation). */
export function rouge(predictions: readonly string[], references: ReadonlyArray<string | readonly string[]>, options: RougeOptions = {}): RougeResult {
  const acc = new RougeAccumulator(options);
  acc.update(predictions, references);
  return acc.compute();
}
