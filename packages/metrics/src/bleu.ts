import type { StreamingMetric } from './metric.js';
import { ngramCounts } from './ngrams.js';
import { tokenize13a } from './tokenize-13a.js';

/** Options of BLEU; the defaults are sacreBLEU's (13a tokens, exp smoothing, 4-grams, case-sensitive). */
export interface BleuOptions {
  tokenize?: '13a' | 'none' | ((s: string) => string);
  lowercase?: boolean;
  smoothMethod?: 'exp' | 'none' | 'floor' | 'add-k';
  /** For 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  maxNgramOrder?: number;
  /** Average only over the n-gram orders the hypothesis has (sacreBLEU's sentence-level default). */
  effectiveOrder?: boolean;
}

/** A BLEU score (0-100) with the statistics sacreBLEU prints. */
export interface BleuResult {
  score: number;
  /** n-gram precisions in percent, after smoothing. */
  precisions: number[];
  bp: number;
  ratio: number;
  sysLen: number;
  refLen: number;
  counts: number[];
  totals: number[];
}

function tokenizer(o: BleuOptions): (s: string) => string[] {
  const t = o.tokenize ?? '13a';
  const f = t === '13a' ? tokenize13a : t === 'none' ? (s: string) => s : t;
  return (s) => {
    const x = f(o.lowercase ? s.toLowerCase() : s);
    return x.split(' ').filter((w) => w.length > 0);
  };
}

/** BLEU from sufficient statistics, exactly as sacreBLEU's `compute_bleu`. */
export function bleuFromStatistics(counts: number[], totals: number[], sysLen: number, refLen: number, options: BleuOptions = {}): BleuResult {
  const order = options.maxNgramOrder ?? 4;
  const method = options.smoothMethod ?? 'exp';
  const value = options.smoothValue ?? (method === 'floor' ? 0.1 : 1);
  const correct = [...counts];
  const total = [...totals];
  const precisions = new Array<number>(order).fill(0);
  let smoothMteval = 1;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (method === 'add-k' && n > 1) {
      correct[n - 1]! += value;
      total[n - 1]! += value;
    }
    if (total[n - 1] === 0) break;
    if (options.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
      } else if (method === 'floor') precisions[n - 1] = (100 * value) / total[n - 1]!;
    } else precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
  }
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  // sacreBLEU's my_log: log(0) is a huge negative number rather than -Infinity.
  const log = (p: number): number => (p === 0 ? -9999999999 : Math.log(p));
  let sum = 0;
  for (let i = 0; i < effOrder; i++) sum += log(precisions[i]!);
  const score = bp * Math.exp(sum / effOrder);
  return { score, precisions, bp, ratio: refLen > 0 ? sysLen / refLen : 0, sysLen, refLen, counts: [...counts], totals: [...totals] };
}

/** Accumulates sacreBLEU statistics sentence by sentence; `compute` gives corpus BLEU. */
export class BleuAccumulator implements StreamingMetric<[hypotheses: readonly string[], references: ReadonlyArray<readonly string[]>], BleuResult> {
  private counts: number[];
  private totals: number[];
  private sysLen = 0;
  private refLen = 0;
  private readonly tok: (s: string) => string[];

  constructor(private readonly options: BleuOptions = {}) {
    this.tok = tokenizer(options);
    const order = options.maxNgramOrder ?? 4;
    this.counts = new Array<number>(order).fill(0);
    this.totals = new Array<number>(order).fill(0);
  }

  /** Adds hypotheses with their references: `references[i]` lists the references of `hypotheses[i]`. */
  update(hypotheses: readonly string[], references: ReadonlyArray<readonly string[]>): void {
    if (hypotheses.length !== references.length) throw new Error(`bleu: ${hypotheses.length} hypotheses but ${references.length} reference lists; pass references[i] = the references of hypothesis i`);
    const order = this.counts.length;
    hypotheses.forEach((h, i) => {
      const refs = references[i]!;
      if (refs.length === 0) throw new Error(`bleu: hypothesis ${i} has no reference; pass at least one`);
      const hyp = this.tok(h);
      const refToks = refs.map(this.tok);
      // Closest reference length, ties to the shorter (sacreBLEU).
      let closest = -1;
      let diff = -1;
      for (const r of refToks) {
        const d = Math.abs(hyp.length - r.length);
        if (diff === -1 || d < diff || (d === diff && r.length < closest)) {
          diff = d;
          closest = r.length;
        }
      }
      this.sysLen += hyp.length;
      this.refLen += closest;
      for (let n = 1; n <= order; n++) {
        const hc = ngramCounts(hyp, n);
        const maxRef = new Map<string, number>();
        for (const r of refToks) for (const [k, c] of ngramCounts(r, n)) maxRef.set(k, Math.max(c, maxRef.get(k) ?? 0));
        for (const [k, c] of hc) this.counts[n - 1]! += Math.min(c, maxRef.get(k) ?? 0);
        this.totals[n - 1]! += Math.max(0, hyp.length - n + 1);
      }
    });
  }

  compute(): BleuResult {
    return bleuFromStatistics(this.counts, this.totals, this.sysLen, this.refLen, this.options);
  }

  reset(): void {
    this.counts.fill(0);
    this.totals.fill(0);
    this.sysLen = this.refLen = 0;
  }
}

/** Corpus BLEU with sacreBLEU's defaults; `references[i]` lists the references of `hypotheses[i]`. */
export function corpusBleu(hypotheses: readonly string[], references: ReadonlyArray<readonly string[]>, options: BleuOptions = {}): BleuResult {
  const acc = new BleuAccumulator(options);
  acc.update(hypotheses, references);
  return acc.compute();
}

/** Sentence BLEU as sacreBLEU's `sentence_score` (effective order on). */
export function sentenceBleu(hypothesis: string, references: readonly string[], options: BleuOptions = {}): BleuResult {
  return corpusBleu([hypothesis], [references], { effectiveOrder: true, ...options });
}
