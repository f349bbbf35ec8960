import type { Evaluation } from '../evaluate.js';

/** Rows of the before/after comparison: family, exact match and loss before and after. */
export function beforeAfterRows(before: Evaluation, after: Evaluation): Array<{ family: string; emBefore: number; emAfter: number; lossBefore: number; lossAfter: number; pplAfter: number }> {
  const names = [...Object.keys(after.families), 'overall'];
  return names.map((f) => {
    const b = f === 'overall' ? before.overall : before.families[f]!;
    const a = f === 'overall' ? after.overall : after.families[f]!;
    return { family: f, emBefore: b.exactMatch, emAfter: a.exactMatch, lossBefore: b.loss, lossAfter: a.loss, pplAfter: a.perplexity };
  });
}

/** The before/after table as aligned text for the terminal. */
export function formatBeforeAfter(before: Evaluation, after: Evaluation): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(7);
  const lines = [`${'family'.padEnd(12)} ${'EM before'.padStart(9)} ${'EM after'.padStart(9)} ${'loss before'.padStart(11)} ${'loss after'.padStart(10)} ${'ppl after'.padStart(9)}`];
  for (const r of beforeAfterRows(before, after)) {
    lines.push(`${r.family.padEnd(12)} ${pct(r.emBefore).padStart(9)} ${pct(r.emAfter).padStart(9)} ${r.lossBefore.toFixed(3).padStart(11)} ${r.lossAfter.toFixed(3).padStart(10)} ${r.pplAfter.toFixed(2).padStart(9)}`);
  }
  if (before.ner && after.ner) lines.push(`NER entity micro-F1: ${before.ner.microF1.toFixed(3)} -> ${after.ner.microF1.toFixed(3)}`);
  return lines.join('\n');
}
