import type { CharChange, NormalizedString } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';

/** Lowercases like Rust's `char::to_lowercase`, one char at a time. */
export function lowercase(n: NormalizedString): void {
  const src = n.normalized;
  if (src.toLowerCase() === src) return;
  const changes: CharChange[] = [];
  let sameLength = true;
  for (const c of src) {
    // Per char, not per string: JS's final-sigma rule would depend on context, Rust's does not.
    const l = c === '\u03a3' ? '\u03c3' : c.toLowerCase();
    const lc = [...l];
    if (lc.length !== 1 || l.length !== c.length) sameLength = false;
    lc.forEach((x, i) => changes.push([x, i > 0 ? 1 : 0]));
  }
  if (sameLength) {
    n.normalized = changes.map((x) => x[0]).join('');
    return;
  }
  n.transform(changes, 0);
}

/** The Lowercase normalizer. */
export class LowercaseNormalizer implements Normalizer {
  normalize(n: NormalizedString): void {
    lowercase(n);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Lowercase' };
  }
}
