const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** One line of a chart. */
export interface ChartSeries {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Draw a dot at every point (for sparse series such as validation loss, where the line between points is not data). */
  markers?: boolean;
  dashed?: boolean;
}

// Ticks at 1, 2 or 5 times a power of ten, about `count` of them.
function niceTicks(lo: number, hi: number, count: number): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const label = (v: number, digits = 3): string => (v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(digits - 2) : Number(v.toPrecision(digits)).toString());

/** Tick labels with as many digits as it takes to tell neighbours apart (a narrow loss range: 15.12, 15.14, not 15.1, 15.1). */
function tickLabels(values: number[]): string[] {
  for (let digits = 3; digits < 8; digits++) {
    const out = values.map((v) => label(v, digits));
    if (new Set(out).size === out.length) return out;
  }
  return values.map((v) => label(v, 8));
}

/**
 * An inline SVG line chart with axes, gridlines, tick labels, axis titles and a legend: no scripts
 * and no network, so the report stays one self-contained file. `logY` suits losses, whose first
 * steps otherwise flatten the rest of the curve.
 */
export function svgLineChart(o: { title: string; xLabel: string; yLabel: string; series: ChartSeries[]; logY?: boolean; yFromZero?: boolean; width?: number; height?: number }): string {
  const series = o.series.filter((s) => s.points.length > 0);
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0));
  if (all.length === 0) return `<figure class="chart"><figcaption>${escape(o.title)}</figcaption><p class="empty">no data</p></figure>`;
  const w = o.width ?? 820;
  const h = o.height ?? 280;
  const m = { left: 64, right: 150, top: 14, bottom: 44 };
  const fy = (y: number): number => (o.logY ? Math.log10(y) : y);
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => fy(p[1]))), Math.max(...all.map((p) => fy(p[1])))];
  if (x1 === x0) (x0 -= 1), (x1 += 1);
  if (y1 === y0) (y0 -= o.logY ? 0.5 : Math.abs(y0) * 0.1 || 1), (y1 += o.logY ? 0.5 : Math.abs(y1) * 0.1 || 1);
  if (!o.logY && y0 > 0 && (o.yFromZero || y0 < (y1 - y0) * 0.5)) y0 = 0;
  const pw = w - m.left - m.right;
  const ph = h - m.top - m.bottom;
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (v: number): number => m.top + ph - ((v - y0) / (y1 - y0)) * ph;
  // Log axes tick at 1, 2, 5 x 10^k; a range narrower than that gets evenly spaced values instead.
  let yTicks = niceTicks(y0, y1, 5);
  if (yTicks.length < 4) yTicks = niceTicks(y0, y1, 10);
  if (o.logY) {
    const decades: number[] = [];
    for (let e = Math.floor(y0); e <= Math.ceil(y1); e++) decades.push(...[1, 2, 5].map((k) => Math.log10(k) + e));
    yTicks = decades.filter((t) => t >= y0 && t <= y1);
    for (const count of [5, 10]) if (yTicks.length < 4) yTicks = niceTicks(10 ** y0, 10 ** y1, count).filter((v) => v > 0).map(Math.log10);
  }
  // Steps are whole numbers: no tick at step 1.5.
  const integerX = all.every(([x]) => Number.isInteger(x));
  const xTicks = niceTicks(x0, x1, Math.min(8, integerX ? Math.max(1, x1 - x0) : 8)).filter((t) => !integerX || Number.isInteger(t));
  const parts: string[] = [];
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fcfcfc" stroke="#999"/>`);
  const yLabels = tickLabels(yTicks.map((t) => (o.logY ? 10 ** t : t)));
  yTicks.forEach((t, i) => {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e4e4e4"/><text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${yLabels[i]}</text>`);
  });
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#999"/><text x="${x}" y="${m.top + ph + 16}" text-anchor="middle" font-size="11">${label(t)}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${h - 6}" text-anchor="middle" font-size="12">${escape(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(o.yLabel)}${o.logY ? ' (log scale)' : ''}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0)).map(([x, y]) => [sx(x), sy(fy(y))] as const);
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    parts.push(`<polyline class="series" data-name="${escape(s.name)}" fill="none" stroke="${s.color}" stroke-width="1.6"${dash} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
    if (s.markers) for (const [x, y] of pts) parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    const ly = m.top + 12 + 18 * i;
    parts.push(`<line x1="${m.left + pw + 12}" x2="${m.left + pw + 34}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/><text x="${m.left + pw + 40}" y="${ly}" dominant-baseline="middle" font-size="12">${escape(s.name)}</text>`);
  });
  return `<figure class="chart"><figcaption>${escape(o.title)}</figcaption><svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif">${parts.join('')}</svg></figure>`;
}
