import type { Evaluation } from '../evaluate.js';
import type { StepRecord } from '../train-loop.js';
import { beforeAfterRows } from './before-after-table.js';

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** An inline SVG line chart (no scripts, no network): one polyline per series over the step axis. */
function lineChart(title: string, series: Array<{ name: string; color: string; points: Array<[number, number]> }>): string {
  const w = 560;
  const h = 220;
  const pad = 40;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const sx = (x: number): number => pad + ((x - x0) / Math.max(1e-12, x1 - x0)) * (w - 2 * pad);
  const sy = (y: number): number => h - pad - ((y - y0) / Math.max(1e-12, y1 - y0)) * (h - 2 * pad);
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`).join('');
  const legend = series.map((s, i) => `<text x="${w - pad - 120}" y="${pad + 14 * i}" fill="${s.color}" font-size="12">${escape(s.name)}</text>`).join('');
  return `<figure><figcaption>${escape(title)}</figcaption><svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" xmlns="http://www.w3.org/2000/svg">
<rect x="${pad}" y="${pad / 2}" width="${w - 2 * pad}" height="${h - 1.5 * pad}" fill="#fafafa" stroke="#ccc"/>${lines}${legend}
<text x="${pad}" y="${h - 8}" font-size="11">step ${x0}</text><text x="${w - pad - 50}" y="${h - 8}" font-size="11">step ${x1}</text>
<text x="2" y="${sy(y1) + 4}" font-size="11">${y1.toPrecision(3)}</text><text x="2" y="${sy(y0)}" font-size="11">${y0.toPrecision(3)}</text></svg></figure>`;
}

/** The self-contained HTML report: loss, validation and learning-rate curves, the before/after table, sample conversations. */
export function htmlReport(r: { title: string; records: StepRecord[]; validation: Array<[number, number]>; before: Evaluation; after: Evaluation; samples: Array<{ prompt: string; reply: string }>; summary: Record<string, unknown> }): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const rows = beforeAfterRows(r.before, r.after)
    .map((x) => `<tr><td>${x.family}</td><td>${pct(x.emBefore)}</td><td>${pct(x.emAfter)}</td><td>${x.lossBefore.toFixed(3)}</td><td>${x.lossAfter.toFixed(3)}</td><td>${x.pplAfter.toFixed(2)}</td></tr>`)
    .join('\n');
  const samples = r.samples.map((s) => `<div class="chat"><p class="user"><b>user</b> ${escape(s.prompt)}</p><p class="assistant"><b>assistant</b> ${escape(s.reply)}</p></div>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(r.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child{text-align:left}.chat{border-left:3px solid #88a;padding-left:10px;margin:8px 0}pre{background:#f4f4f4;padding:8px;overflow:auto}</style></head><body>
<h1>${escape(r.title)}</h1>
<h2>Before / after (held-out test split)</h2>
<table><tr><th>family</th><th>EM before</th><th>EM after</th><th>loss before</th><th>loss after</th><th>perplexity after</th></tr>
${rows}</table>
<h2>Curves</h2>
${lineChart('training loss (and validation loss)', [
  { name: 'train loss', color: '#1f77b4', points: r.records.map((x) => [x.step, x.loss]) },
  { name: 'validation loss', color: '#d62728', points: r.validation },
])}
${lineChart('learning rate', [{ name: 'lr', color: '#2ca02c', points: r.records.map((x) => [x.step, x.lr]) }])}
<h2>Sample conversations</h2>
${samples}
<h2>Summary</h2><pre>${escape(JSON.stringify(r.summary, null, 2))}</pre>
</body></html>
`;
}
