import { inRanges, MARK_ONLY_JS, MARK_ONLY_RUST, MN_ONLY_JS, MN_ONLY_RUST } from '../char-class-exceptions.js';
import { normalizeUnicode } from './unicode-forms.js';
import type { NormalizedString } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';

/** Strips whitespace on the left and/or right. */
export class StripNormalizer implements Normalizer {
  constructor(readonly left: boolean, readonly right: boolean) {}
  normalize(n: NormalizedString): void {
    n.strip(this.left, this.right);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Strip', strip_left: this.left, strip_right: this.right };
  }
}

const NONSPACING_MARK = /^\p{Mn}$/u;
const COMBINING_MARK = /^\p{M}$/u;

/** The BERT normalizer's `is_mark_nonspacing`, with the reference's Unicode-version differences applied. */
export function isNonspacingMark(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if (cp < 0x300) return false;
  if (NONSPACING_MARK.test(c)) return !inRanges(cp, MN_ONLY_JS);
  return inRanges(cp, MN_ONLY_RUST);
}

/** The StripAccents normalizer's `is_combining_mark`, with the reference's Unicode-version differences applied. */
export function isCombiningMark(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if (cp < 0x300) return false;
  if (COMBINING_MARK.test(c)) return !inRanges(cp, MARK_ONLY_JS);
  return inRanges(cp, MARK_ONLY_RUST);
}

/** Removes the chars `isMark` selects (BERT: nonspacing marks; StripAccents: all combining marks). */
export function stripAccents(n: NormalizedString, isMark: (c: string) => boolean = isNonspacingMark): void {
  // ASCII text has no marks; skip the per-char pass.
  if (!/[^\x00-\x7f]/.test(n.normalized)) return;
  n.filter((c) => !isMark(c));
}

/** The StripAccents normalizer. */
export class StripAccentsNormalizer implements Normalizer {
  normalize(n: NormalizedString): void {
    stripAccents(n, isCombiningMark);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'StripAccents' };
  }
}

export { normalizeUnicode };
