import type { Evaluation } from '../evaluate.js';
import type { StepRecord } from '../train-loop.js';
import { beforeAfterRows } from './before-after-table.js';
import { trainingCurves } from './training-curves.js';

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** What the report shows; before/after and samples are optional (a plain `train` run has no evaluation). */
export interface HtmlReportInput {
  title: string;
  records: StepRecord[];
  /** Validation loss by step. */
  validation: Array<[number, number]>;
  before?: Evaluation;
  after?: Evaluation;
  samples?: Array<{ prompt: string; reply: string }>;
  summary: Record<string, unknown>;
}

function beforeAfterTable(before: Evaluation, after: Evaluation): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const rows = beforeAfterRows(before, after)
    .map((x) => `<tr${x.family === 'overall' ? ' class="overall"' : ''}><td>${escape(x.family)}</td><td>${pct(x.emBefore)}</td><td>${pct(x.emAfter)}</td><td>${x.lossBefore.toFixed(3)}</td><td>${x.lossAfter.toFixed(3)}</td><td>${x.pplAfter.toFixed(2)}</td></tr>`)
    .join('\n');
  const ner = before.ner && after.ner ? `<p>NER entity micro-F1 (seqeval): ${before.ner.microF1.toFixed(3)} → <b>${after.ner.microF1.toFixed(3)}</b></p>` : '';
  return `<h2>Before / after (held-out test split)</h2>
<table id="before-after"><thead><tr><th>family</th><th>exact match before</th><th>exact match after</th><th>loss before</th><th>loss after</th><th>perplexity after</th></tr></thead>
<tbody>${rows}</tbody></table>${ner}`;
}

/** The self-contained HTML report: loss, validation and learning-rate curves, the before/after table, sample conversations. */
export function htmlReport(r: HtmlReportInput): string {
  const samples = (r.samples ?? []).map((s) => `<div class="chat"><p class="user"><b>user</b> ${escape(s.prompt)}</p><p class="assistant"><b>assistant</b> ${escape(s.reply)}</p></div>`).join('\n');
  const { loss, lr } = trainingCurves(r.records, r.validation);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(r.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}tr.overall td{font-weight:600;border-top:2px solid #888}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:4px}.chat{border-left:3px solid #88a;padding-left:10px;margin:8px 0}pre{background:#f4f4f4;padding:8px;overflow:auto;max-height:30em}</style></head><body>
<h1>${escape(r.title)}</h1>
${r.before && r.after ? beforeAfterTable(r.before, r.after) : ''}
<h2>Curves</h2>
${loss}
${lr}
${samples ? `<h2>Sample conversations</h2>\n${samples}` : ''}
<h2>Summary</h2><details><summary>summary.json</summary><pre>${escape(JSON.stringify(r.summary, null, 2))}</pre></details>
</body></html>
`;
}
