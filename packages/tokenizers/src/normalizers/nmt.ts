import type { NormalizedString } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';

// ASCII/C1 control chars that NMT normalization drops (tab, newlines and form feed become spaces instead).
function isDroppedControl(cp: number): boolean {
  return (cp >= 0x01 && cp <= 0x08) || cp === 0x0b || (cp >= 0x0e && cp <= 0x1f) || cp === 0x7f || cp === 0x8f || cp === 0x9f;
}

// Chars NMT normalization treats as a plain space.
function isNmtSpace(cp: number): boolean {
  return cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d || cp === 0x1680 || (cp >= 0x200b && cp <= 0x200f) || cp === 0x2028 || cp === 0x2029 || cp === 0x2581 || cp === 0xfeff || cp === 0xfffd;
}

const TOUCHED = /[\u0001-\u001f\u007f\u008f\u009f\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]/;

/** SentencePiece's NMT normalization (Rust `Nmt`): drop control chars, map odd spaces to ' '. */
export class NmtNormalizer implements Normalizer {
  normalize(n: NormalizedString): void {
    if (!TOUCHED.test(n.normalized)) return;
    n.filter((c) => !isDroppedControl(c.codePointAt(0)!));
    n.mapChars((c) => (isNmtSpace(c.codePointAt(0)!) ? ' ' : c));
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Nmt' };
  }
}
