/** What truncation did to a stream of examples; nothing is dropped or cut without being counted here. */
export interface TruncationReport {
  /** Examples tokenised; a record refused before tokenising (not a conversation, or the chat template threw) is not counted. */
  examples: number;
  /** Examples cut to maxLength that kept part of their answer. */
  truncated: number;
  /** Examples left out: over maxLength with truncation 'drop', or with no answer token left after cutting. */
  dropped: number;
  /** Indexes (in input order, among the counted examples) of the first 1000 dropped examples. */
  droppedIndexes: number[];
}

/** An empty report. */
export function emptyTruncationReport(): TruncationReport {
  return { examples: 0, truncated: 0, dropped: 0, droppedIndexes: [] };
}

/** A one-line summary for logs, e.g. "1000 examples: 12 truncated, 3 dropped (over maxLength 2048)". */
export function formatTruncationReport(r: TruncationReport, maxLength?: number): string {
  const limit = maxLength !== undefined ? ` (over maxLength ${maxLength})` : '';
  return `${r.examples} examples: ${r.truncated} truncated, ${r.dropped} dropped${limit}`;
}
