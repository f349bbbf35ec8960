import { inRanges } from '../char-class-exceptions.js';
import type { CharChange, NormalizedString } from '../normalized-string.js';
import { UNCHANGED_IN_RUST } from './normalization-exceptions.js';
import type { Normalizer } from './normalizer.js';

export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

const MARK = /^\p{M}/u;

// A segment boundary sits before a char that can never interact with what precedes it: not a
// mark, not a Hangul vowel/trailing jamo, and not normalizing into a leading mark.
function startsSegment(c: string, form: UnicodeForm): boolean {
  const cp = c.codePointAt(0)!;
  if ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11a8 && cp <= 0x11c2)) return false;
  if (MARK.test(c)) return false;
  return !MARK.test(c.normalize(form));
}

const DECOMPOSITION: Record<UnicodeForm, 'NFD' | 'NFKD'> = { NFC: 'NFD', NFD: 'NFD', NFKC: 'NFKD', NFKD: 'NFKD' };

/**
 * The per-char changes that turn one segment into its normalized form, replaying Rust's
 * unicode-normalization-alignments: decompose each char (first piece replaces it, the rest are
 * inserted), reorder marks canonically (changes travel with their chars), then, for NFC/NFKC,
 * compose: an absorbed piece is removed through the change of the char that absorbs it.
 */
function segmentChanges(seg: string[], form: UnicodeForm, out: CharChange[]): void {
  const whole = [...seg.join('').normalize(form)];
  const dform = DECOMPOSITION[form];
  const pieces: CharChange[] = [];
  for (const c of seg) [...c.normalize(dform)].forEach((d, i) => pieces.push([d, i === 0 ? 0 : 1]));
  // Canonical order from the engine itself; equal chars keep their relative order (stable sort).
  const ordered = [...pieces.map((p) => p[0]).join('').normalize(dform)];
  const used = new Uint8Array(pieces.length);
  const reordered: CharChange[] = [];
  for (const c of ordered) {
    const i = pieces.findIndex((p, k) => !used[k] && p[0] === c);
    if (i < 0) return fallback(seg, whole, out);
    used[i] = 1;
    reordered.push([c, pieces[i]![1]]);
  }
  let result = reordered;
  if (form === 'NFC' || form === 'NFKC') {
    result = [];
    for (const piece of reordered) {
      const head = result.length > 0 ? result[0]! : null;
      if (head && result.length >= 1) {
        const kept = result.slice(1).map((p) => p[0]).join('');
        const tried = [...(head[0] + kept + piece[0]).normalize('NFC')];
        // Composition happened when the sequence got one char shorter.
        if (tried.length === result.length && tried.slice(1).join('') === kept) {
          head[0] = tried[0]!;
          head[1] += piece[1] - 1;
          continue;
        }
      }
      result.push([piece[0], piece[1]]);
    }
  }
  if (result.map((p) => p[0]).join('') !== whole.join('')) return fallback(seg, whole, out);
  for (const r of result) out.push(r);
}

// Shapes the replay does not reproduce: keep positions, insert or remove at the end.
function fallback(seg: string[], whole: string[], out: CharChange[]): void {
  const k = seg.length;
  const m = whole.length;
  if (m < k) whole.forEach((c, i) => out.push([c, i === 0 ? -(k - m) : 0]));
  else for (let i = 0; i < m; i++) out.push([whole[i]!, i < k ? 0 : 1]);
}

// Chars newer than the reference's tables: it leaves them alone, and to it they are plain
// starters that nothing composes with.
function unchangedInRust(c: string, form: UnicodeForm): boolean {
  const cp = c.codePointAt(0)!;
  return cp >= 0x3000 && inRanges(cp, UNCHANGED_IN_RUST[form]);
}

/** Applies a Unicode normalization form, aligning each output char to the char it came from. */
export function normalizeUnicode(n: NormalizedString, form: UnicodeForm): void {
  const src = n.normalized;
  if (src.normalize(form) === src) return;
  const chars = [...src];
  const changes: CharChange[] = [];
  let start = 0;
  for (let i = 1; i <= chars.length; i++) {
    const c = chars[i - 1]!;
    const kept = unchangedInRust(c, form);
    if (kept || i === chars.length || startsSegment(chars[i]!, form) || unchangedInRust(chars[i]!, form)) {
      if (kept) changes.push([c, 0]);
      else segmentChanges(chars.slice(start, i), form, changes);
      start = i;
    }
  }
  n.transform(changes, 0);
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
