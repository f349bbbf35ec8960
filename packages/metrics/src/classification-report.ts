import { formatReportTable, type ReportRow } from './report-table.js';
import type { StreamingMetric } from './metric.js';

/** A class label: strings or numbers, as scikit-learn accepts. */
export type Label = string | number;

/** Precision, recall, F1 and support of one class or one average. */
export interface Scores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Per-class and averaged scores, as scikit-learn's `classification_report(..., output_dict=True)`. */
export interface ClassificationReport {
  /** The classes in report order (sorted like `np.unique`, or as given). */
  labels: Label[];
  perClass: Map<Label, Scores>;
  micro: Scores;
  macro: Scores;
  weighted: Scores;
  /** Set when the micro average equals accuracy (every observed label is reported), as scikit-learn prints it. */
  accuracy?: number;
}

/** Options of `classificationReport`. */
export interface ClassificationReportOptions {
  /** Classes to report, in order; default: every label seen, sorted. */
  labels?: Label[];
  /** Value of a 0/0 precision, recall or F1 (scikit-learn's `zero_division`); default 0. */
  zeroDivision?: 0 | 1;
}

/** Per-class true positives, predicted counts and true counts: the sufficient statistics of a report. */
export interface ConfusionCounts {
  tp: Map<Label, number>;
  predicted: Map<Label, number>;
  actual: Map<Label, number>;
  correct: number;
  total: number;
}

/** Sorts labels like `np.unique`: numbers numerically, strings by code point. */
export function sortLabels(labels: Iterable<Label>): Label[] {
  return [...new Set(labels)].sort((a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    const sa = String(a);
    const sb = String(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  });
}

function divide(n: number, d: number, zeroDivision: number): number {
  return d === 0 ? zeroDivision : n / d;
}

/** Precision/recall/F1 from counts, with scikit-learn's zero-division rule. */
export function scoresFromCounts(tp: number, predicted: number, actual: number, zeroDivision = 0): Scores {
  const precision = divide(tp, predicted, zeroDivision);
  const recall = divide(tp, actual, zeroDivision);
  // scikit-learn computes F from the counts (2tp / (pred + true)), which matters when one of P, R is 0/0.
  const f1 = divide(2 * tp, predicted + actual, zeroDivision);
  return { precision, recall, f1, support: actual };
}

/** Builds a report from accumulated counts. */
export function reportFromCounts(counts: ConfusionCounts, options: ClassificationReportOptions = {}): ClassificationReport {
  const zd = options.zeroDivision ?? 0;
  const seen = sortLabels([...counts.actual.keys(), ...counts.predicted.keys()]);
  const labels = options.labels ?? seen;
  const perClass = new Map<Label, Scores>();
  let tpSum = 0;
  let predSum = 0;
  let actSum = 0;
  for (const l of labels) {
    const tp = counts.tp.get(l) ?? 0;
    const pred = counts.predicted.get(l) ?? 0;
    const act = counts.actual.get(l) ?? 0;
    perClass.set(l, scoresFromCounts(tp, pred, act, zd));
    tpSum += tp;
    predSum += pred;
    actSum += act;
  }
  const rows = [...perClass.values()];
  const mean = (k: 'precision' | 'recall' | 'f1'): number => (rows.length === 0 ? 0 : rows.reduce((s, r) => s + r[k], 0) / rows.length);
  const wmean = (k: 'precision' | 'recall' | 'f1'): number => (actSum === 0 ? 0 : rows.reduce((s, r) => s + r[k] * r.support, 0) / actSum);
  const report: ClassificationReport = {
    labels,
    perClass,
    micro: scoresFromCounts(tpSum, predSum, actSum, zd),
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1'), support: actSum },
    weighted: { precision: wmean('precision'), recall: wmean('recall'), f1: wmean('f1'), support: actSum },
  };
  const labelSet = new Set(labels);
  if (seen.every((l) => labelSet.has(l))) report.accuracy = counts.total === 0 ? 0 : counts.correct / counts.total;
  return report;
}

/** Accumulates (true, predicted) label pairs batch by batch for a classification report. */
export class ClassificationReportAccumulator implements StreamingMetric<[yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>], ClassificationReport> {
  private counts: ConfusionCounts = emptyCounts();

  constructor(private readonly options: ClassificationReportOptions & { ignoreLabel?: Label } = {}) {}

  /** Adds a batch of labels; pairs whose true label equals `ignoreLabel` (e.g. -100) are skipped. */
  update(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>): void {
    if (yTrue.length !== yPred.length) throw new Error(`classificationReport: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}; pass parallel arrays`);
    const c = this.counts;
    for (let i = 0; i < yTrue.length; i++) {
      const t = yTrue[i]!;
      const p = yPred[i]!;
      if (this.options.ignoreLabel !== undefined && t === this.options.ignoreLabel) continue;
      c.total++;
      c.actual.set(t, (c.actual.get(t) ?? 0) + 1);
      c.predicted.set(p, (c.predicted.get(p) ?? 0) + 1);
      if (t === p) {
        c.correct++;
        c.tp.set(t, (c.tp.get(t) ?? 0) + 1);
      }
    }
  }

  compute(): ClassificationReport {
    return reportFromCounts(this.counts, this.options);
  }

  reset(): void {
    this.counts = emptyCounts();
  }
}

function emptyCounts(): ConfusionCounts {
  return { tp: new Map(), predicted: new Map(), actual: new Map(), correct: 0, total: 0 };
}

/** Token-level precision/recall/F1/support per class with micro, macro and weighted averages (scikit-learn semantics). */
export function classificationReport(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, options: ClassificationReportOptions & { ignoreLabel?: Label } = {}): ClassificationReport {
  const acc = new ClassificationReportAccumulator(options);
  acc.update(yTrue, yPred);
  return acc.compute();
}

/** Options of `formatClassificationReport`. */
export interface FormatReportOptions {
  /** Display names per label, in report order (scikit-learn's `target_names`). */
  targetNames?: string[];
  /** Decimal places; default 2. */
  digits?: number;
}

/** The report as text in the layout of scikit-learn's `classification_report`. */
export function formatClassificationReport(report: ClassificationReport, options: FormatReportOptions = {}): string {
  const names = options.targetNames ?? report.labels.map(String);
  if (names.length !== report.labels.length) throw new Error(`formatClassificationReport: ${names.length} targetNames for ${report.labels.length} labels; pass one name per label`);
  const rows: ReportRow[] = report.labels.map((l, i) => ({ name: names[i]!, ...report.perClass.get(l)! }));
  const averages: ReportRow[] = [];
  if (report.accuracy !== undefined) averages.push({ name: 'accuracy', accuracy: report.accuracy, support: report.micro.support });
  else averages.push({ name: 'micro avg', ...report.micro });
  averages.push({ name: 'macro avg', ...report.macro }, { name: 'weighted avg', ...report.weighted });
  return formatReportTable(rows, averages, options.digits ?? 2);
}
