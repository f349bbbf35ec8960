import { formatFixed } from './format-fixed.js';

/** One line of a report: scores, or (for scikit-learn's accuracy line) a single accuracy figure. */
export type ReportRow =
  | { name: string; precision: number; recall: number; f1: number; support: number }
  | { name: string; accuracy: number; support: number };

/** Lays out rows exactly as scikit-learn's and seqeval's `classification_report` do. */
export function formatReportTable(rows: ReportRow[], averages: ReportRow[], digits: number): string {
  const width = Math.max(...rows.map((r) => r.name.length), 'weighted avg'.length, digits);
  const cell = (s: string): string => ' ' + s.padStart(9);
  const head = ''.padStart(width) + ' ' + ['precision', 'recall', 'f1-score', 'support'].map(cell).join('');
  const line = (r: ReportRow): string => {
    const name = r.name.padStart(width) + ' ';
    if ('accuracy' in r) return name + cell('') + cell('') + cell(formatFixed(r.accuracy, digits)) + cell(String(r.support)) + '\n';
    return name + [r.precision, r.recall, r.f1].map((v) => cell(formatFixed(v, digits))).join('') + cell(String(r.support)) + '\n';
  };
  return head + '\n\n' + rows.map(line).join('') + '\n' + averages.map(line).join('');
}
