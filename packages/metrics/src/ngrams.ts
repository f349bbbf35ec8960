/** Counts of all n-grams of one order in a token list (tokens joined by a separator no token contains). */
export function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join('\u0000');
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** Sum of min(count in a, count in b) over n-grams: the clipped overlap. */
export function overlap(a: Map<string, number>, b: Map<string, number>): number {
  let s = 0;
  for (const [k, c] of a) s += Math.min(c, b.get(k) ?? 0);
  return s;
}
