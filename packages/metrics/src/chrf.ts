import type { StreamingMetric } from './metric.js';
import { ngramCounts, overlap } from './ngrams.js';
import { ASCII_PUNCTUATION } from './normalize-answer.js';

/** Options of chrF; defaults are sacreBLEU's CHRF (chrF2: 6 character orders, no word n-grams, β = 2, whitespace ignored). */
export interface ChrfOptions {
  charOrder?: number;
  /** 2 gives chrF++. */
  wordOrder?: number;
  beta?: number;
  lowercase?: boolean;
  whitespace?: boolean;
  /** chrF++.py-style epsilon smoothing instead of sacreBLEU's default effective-order averaging. */
  epsSmoothing?: boolean;
}

/** A chrF score (0-100) and its summed statistics (per order: hypothesis, reference and matching n-grams). */
export interface ChrfResult {
  score: number;
  statistics: number[];
}

const PUNCTS = new Set(ASCII_PUNCTUATION);

// sacreBLEU splits one leading or trailing punctuation mark off each word for the word n-grams.
function words(s: string): string[] {
  const out: string[] = [];
  for (const w of s.split(/\s+/).filter(Boolean)) {
    const cs = [...w];
    if (cs.length === 1) out.push(w);
    else if (PUNCTS.has(cs[cs.length - 1]!)) out.push(cs.slice(0, -1).join(''), cs[cs.length - 1]!);
    else if (PUNCTS.has(cs[0]!)) out.push(cs[0]!, cs.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

/** chrF from summed statistics, as sacreBLEU's `_compute_f_score`. */
export function chrfFromStatistics(stats: readonly number[], options: ChrfOptions = {}): number {
  const eps = 1e-16;
  const factor = (options.beta ?? 2) ** 2;
  const order = stats.length / 3;
  let score = 0;
  let effective = 0;
  let avgP = 0;
  let avgR = 0;
  for (let i = 0; i < order; i++) {
    const [nHyp, nRef, nMatch] = [stats[3 * i]!, stats[3 * i + 1]!, stats[3 * i + 2]!];
    const p = nHyp > 0 ? nMatch / nHyp : eps;
    const r = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * p + r;
    score += denom > 0 ? ((1 + factor) * p * r) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgP += p;
      avgR += r;
      effective++;
    }
  }
  if (options.epsSmoothing) return (100 * score) / order;
  if (effective === 0) return 0;
  avgP /= effective;
  avgR /= effective;
  return avgP + avgR > 0 ? (100 * (1 + factor) * avgP * avgR) / (factor * avgP + avgR) : 0;
}

/** Accumulates chrF statistics; each hypothesis takes the statistics of its best-scoring reference (sacreBLEU). */
export class ChrfAccumulator implements StreamingMetric<[hypotheses: readonly string[], references: ReadonlyArray<readonly string[]>], ChrfResult> {
  private stats: number[];

  constructor(private readonly options: ChrfOptions = {}) {
    this.stats = new Array<number>(3 * ((options.charOrder ?? 6) + (options.wordOrder ?? 0))).fill(0);
  }

  private extract(s: string): Array<Map<string, number>> {
    const text = this.options.lowercase ? s.toLowerCase() : s;
    const chars = [...(this.options.whitespace ? text : text.split(/\s+/).join(''))];
    const out: Array<Map<string, number>> = [];
    for (let n = 1; n <= (this.options.charOrder ?? 6); n++) out.push(ngramCounts(chars, n));
    const ws = words(text);
    for (let n = 1; n <= (this.options.wordOrder ?? 0); n++) out.push(ngramCounts(ws, n));
    return out;
  }

  /** Adds hypotheses; `references[i]` lists the references of `hypotheses[i]`. */
  update(hypotheses: readonly string[], references: ReadonlyArray<readonly string[]>): void {
    if (hypotheses.length !== references.length) throw new Error(`chrf: ${hypotheses.length} hypotheses but ${references.length} reference lists; pass references[i] = the references of hypothesis i`);
    hypotheses.forEach((h, i) => {
      const hyp = this.extract(h);
      let best: number[] | null = null;
      let bestF = -1;
      for (const r of references[i]!) {
        const ref = this.extract(r);
        const st = hyp.flatMap((hc, k) => {
          const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
          return [total(hc), total(ref[k]!), overlap(hc, ref[k]!)];
        });
        const f = chrfFromStatistics(st, this.options);
        if (f > bestF) {
          bestF = f;
          best = st;
        }
      }
      if (!best) throw new Error(`chrf: hypothesis ${i} has no reference; pass at least one`);
      best.forEach((v, k) => (this.stats[k]! += v));
    });
  }

  compute(): ChrfResult {
    return { score: chrfFromStatistics(this.stats, this.options), statistics: [...this.stats] };
  }

  reset(): void {
    this.stats.fill(0);
  }
}

/** Corpus chrF with sacreBLEU's defaults. */
export function corpusChrf(hypotheses: readonly string[], references: ReadonlyArray<readonly string[]>, options: ChrfOptions = {}): ChrfResult {
  const acc = new ChrfAccumulator(options);
  acc.update(hypotheses, references);
  return acc.compute();
}
