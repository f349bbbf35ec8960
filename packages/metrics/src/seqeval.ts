import { reportFromCounts, type ClassificationReport, type ConfusionCounts } from './classification-report.js';
import { entityKey, type Entity } from './entity.js';
import { lenientEntities } from './lenient-entities.js';
import type { StreamingMetric } from './metric.js';
import { formatReportTable, type ReportRow } from './report-table.js';
import { strictEntities, type TaggingScheme } from './strict-entities.js';

/** Options of the seqeval-style entity metrics. */
export interface SeqevalOptions {
  /** 'lenient' (seqeval's default conlleval-like reading) or 'strict' (only chunks well-formed under `scheme`). */
  mode?: 'lenient' | 'strict';
  /** Tagging scheme for strict mode; required there. */
  scheme?: TaggingScheme;
  /** Tags written as 'PER-B' instead of 'B-PER'. */
  suffix?: boolean;
  zeroDivision?: 0 | 1;
}

/** Entity-level scores per type with micro/macro/weighted averages, plus token accuracy. */
export interface SeqevalResult {
  report: ClassificationReport;
  precision: number;
  recall: number;
  f1: number;
  /** Token-level accuracy (seqeval's `accuracy_score`). */
  accuracy: number;
}

/** Extracts entities from tag sequences under the given mode. */
export function extractEntities(sentences: ReadonlyArray<readonly string[]>, options: SeqevalOptions = {}, firstSentence = 0): Entity[] {
  const mode = options.mode ?? 'lenient';
  if (mode === 'strict' && !options.scheme) throw new Error("seqeval: mode 'strict' needs a scheme; pass { scheme: 'IOB2' } (or IOB1, IOE1, IOE2, IOBES, BILOU)");
  return sentences.flatMap((tags, i) => (mode === 'strict' ? strictEntities(tags, options.scheme!, firstSentence + i, options.suffix) : lenientEntities(tags, firstSentence + i, options.suffix)));
}

/** Accumulates sentences batch by batch for seqeval's entity-level precision/recall/F1. */
export class SeqevalAccumulator implements StreamingMetric<[yTrue: ReadonlyArray<readonly string[]>, yPred: ReadonlyArray<readonly string[]>], SeqevalResult> {
  private counts: ConfusionCounts = emptyCounts();
  private sentences = 0;
  private tokens = 0;
  private correctTokens = 0;

  constructor(private readonly options: SeqevalOptions = {}) {}

  update(yTrue: ReadonlyArray<readonly string[]>, yPred: ReadonlyArray<readonly string[]>): void {
    if (yTrue.length !== yPred.length) throw new Error(`seqeval: yTrue has ${yTrue.length} sentences but yPred has ${yPred.length}; pass parallel lists`);
    yTrue.forEach((t, i) => {
      const p = yPred[i]!;
      if (t.length !== p.length) throw new Error(`seqeval: sentence ${this.sentences + i} has ${t.length} true tags but ${p.length} predicted; pass one tag per token`);
      for (let k = 0; k < t.length; k++) if (t[k] === p[k]) this.correctTokens++;
      this.tokens += t.length;
    });
    const trueEntities = extractEntities(yTrue, this.options, this.sentences);
    const predEntities = extractEntities(yPred, this.options, this.sentences);
    this.sentences += yTrue.length;
    const trueKeys = new Set(trueEntities.map(entityKey));
    const c = this.counts;
    for (const e of trueEntities) c.actual.set(e.type, (c.actual.get(e.type) ?? 0) + 1);
    for (const e of predEntities) {
      c.predicted.set(e.type, (c.predicted.get(e.type) ?? 0) + 1);
      if (trueKeys.has(entityKey(e))) c.tp.set(e.type, (c.tp.get(e.type) ?? 0) + 1);
    }
  }

  compute(): SeqevalResult {
    const report = reportFromCounts(this.counts, { zeroDivision: this.options.zeroDivision ?? 0 });
    // Entity types are reported by their true-or-predicted names; there is no "accuracy" line for entities.
    delete report.accuracy;
    return { report, precision: report.micro.precision, recall: report.micro.recall, f1: report.micro.f1, accuracy: this.tokens === 0 ? 0 : this.correctTokens / this.tokens };
  }

  reset(): void {
    this.counts = emptyCounts();
    this.sentences = this.tokens = this.correctTokens = 0;
  }
}

function emptyCounts(): ConfusionCounts {
  return { tp: new Map(), predicted: new Map(), actual: new Map(), correct: 0, total: 0 };
}

/** seqeval's entity-level scores over whole lists of sentences. */
export function seqeval(yTrue: ReadonlyArray<readonly string[]>, yPred: ReadonlyArray<readonly string[]>, options: SeqevalOptions = {}): SeqevalResult {
  const acc = new SeqevalAccumulator(options);
  acc.update(yTrue, yPred);
  return acc.compute();
}

/** The entity report as text in the layout of seqeval's `classification_report`. */
export function formatSeqevalReport(result: SeqevalResult, digits = 2): string {
  const r = result.report;
  const rows: ReportRow[] = r.labels.map((l) => ({ name: String(l), ...r.perClass.get(l)! }));
  return formatReportTable(rows, [{ name: 'micro avg', ...r.micro }, { name: 'macro avg', ...r.macro }, { name: 'weighted avg', ...r.weighted }], digits);
}
