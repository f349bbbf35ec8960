import type { CharChange, NormalizedString } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';

export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

/**
 * Applies a Unicode normalization form. The alignment follows Rust's unicode-normalization
 * crate: a decomposed char keeps its position for the first output char and inserts the rest;
 * a composition keeps the first position and removes the chars it absorbed.
 */
export function normalizeUnicode(n: NormalizedString, form: UnicodeForm): void {
  const src = n.normalized;
  const whole = src.normalize(form);
  if (whole === src) return;
  const changes: CharChange[] = [];
  // Work segment by segment: a segment starts at a char that normalizes alone and is not
  // altered by what precedes it, so each segment maps independently.
  const chars = [...src];
  let segStart = 0;
  const flush = (end: number): void => {
    if (end <= segStart) return;
    const seg = chars.slice(segStart, end);
    const outChars = [...seg.join('').normalize(form)];
    const k = seg.length;
    const m = outChars.length;
    if (m >= k) {
      for (let i = 0; i < m; i++) changes.push([outChars[i]!, i < k ? 0 : 1]);
    } else {
      for (let i = 0; i < m; i++) changes.push([outChars[i]!, i === m - 1 ? -(k - m) : 0]);
    }
    segStart = end;
  };
  for (let i = 1; i <= chars.length; i++) {
    if (i === chars.length) { flush(i); break; }
    if (isSegmentStart(chars[i]!, chars[i - 1]!, form)) flush(i);
  }
  n.transform(changes, 0);
}

// A char starts a new segment when it is a starter (no combining class) that does not combine
// with the previous one: checked directly by normalizing the pair.
function isSegmentStart(c: string, prev: string, form: UnicodeForm): boolean {
  const cn = c.normalize(form);
  if (cn.length === 0) return true;
  const pair = (prev + c).normalize(form);
  if (pair !== prev.normalize(form) + cn) return false;
  return !/^\p{M}/u.test(cn);
}

/** NFC, NFD, NFKC or NFKD normalization. */
export class UnicodeNormalizer implements Normalizer {
  constructor(readonly form: UnicodeForm) {}
  normalize(n: NormalizedString): void {
    normalizeUnicode(n, this.form);
  }
  toJSON(): Record<string, unknown> {
    return { type: this.form };
  }
}
