import type { CharChange, NormalizedString } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';
import { PrecompiledCharsmap } from './precompiled-charsmap.js';

let graphemeSegmenter: Intl.Segmenter | null = null;

// Below U+0300 no char extends a grapheme (no marks, joiners, Hangul or regional indicators);
// only "\r\n" forms a two-char cluster there, so such text skips the segmenter.
const NEEDS_SEGMENTER = /[^\u0000-\u02ff]|\r\n/;

/** Extended grapheme clusters of `s` (the Rust `unicode-segmentation` `graphemes(true)`). */
function graphemes(s: string): Iterable<string> {
  if (!NEEDS_SEGMENTER.test(s)) return s;
  graphemeSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const seg = graphemeSegmenter;
  const out: string[] = [];
  // V8's segment iterator slows down quadratically on long strings (seconds on 80 kB), so the
  // text goes through in windows: all clusters of a window but its last (which the window end
  // may have cut) are final, and the next window starts at that last cluster. A cluster
  // boundary depends on nothing before the cluster that precedes it, so restarting at one
  // gives the same clusters.
  let pos = 0;
  let win = 256;
  while (pos < s.length) {
    const end = pos + win;
    if (end >= s.length) {
      for (const g of seg.segment(s.slice(pos))) out.push(g.segment);
      break;
    }
    const parts = Array.from(seg.segment(s.slice(pos, end)));
    if (parts.length < 2) {
      win *= 2; // one cluster longer than the window
      continue;
    }
    for (let k = 0; k < parts.length - 1; k++) out.push(parts[k]!.segment);
    pos += parts[parts.length - 1]!.index;
    win = 256;
  }
  return out;
}

/** Writes the UTF-8 bytes of `s` into `buf` from 0 and returns their count (`s` is well formed). */
function utf8Into(s: string, buf: Uint8Array): number {
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { cp = 0x10000 + ((cp - 0xd800) << 10) + (d - 0xdc00); i++; }
    }
    if (cp < 0x80) buf[w++] = cp;
    else if (cp < 0x800) { buf[w++] = 0xc0 | (cp >> 6); buf[w++] = 0x80 | (cp & 63); }
    else if (cp < 0x10000) { buf[w++] = 0xe0 | (cp >> 12); buf[w++] = 0x80 | ((cp >> 6) & 63); buf[w++] = 0x80 | (cp & 63); }
    else { buf[w++] = 0xf0 | (cp >> 18); buf[w++] = 0x80 | ((cp >> 12) & 63); buf[w++] = 0x80 | ((cp >> 6) & 63); buf[w++] = 0x80 | (cp & 63); }
  }
  return w;
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
    n++;
  }
  return n;
}

// The change list of one replacement, as the Rust normalizer writes it: every new char
// replaces one old char (0); surplus new chars at the end are insertions (1); when the
// replacement is shorter, the last change so far (possibly the previous char's, when the
// replacement is empty) removes the surplus old chars.
function pushReplacement(out: CharChange[], norm: string, oldCount: number): void {
  const first = out.length;
  for (const c of norm) out.push([c, 0]);
  const diff = out.length - first - oldCount;
  if (diff > 0) for (let k = out.length - diff; k < out.length; k++) out[k]![1] = 1;
  else if (diff < 0 && out.length > 0) out[out.length - 1]![1] += diff;
}

/**
 * SentencePiece's compiled normalization (T5, mT5, ALBERT, XLM-R, Marian): a grapheme shorter
 * than 6 UTF-8 bytes is replaced whole by the replacement of its shortest mapped prefix (a quirk
 * of the reference, kept so that ids agree); otherwise each char is replaced on its own.
 */
export class PrecompiledNormalizer implements Normalizer {
  private readonly map: PrecompiledCharsmap;
  private readonly buf = new Uint8Array(64);

  constructor(readonly charsmapBase64: string) {
    this.map = PrecompiledCharsmap.fromBase64(charsmapBase64);
  }

  normalize(n: NormalizedString): void {
    const changes: CharChange[] = [];
    let modified = false;
    const buf = this.buf;
    for (const g of graphemes(n.normalized)) {
      // A long cluster could overflow the scratch buffer; it is never looked up whole anyway.
      if (g.length < 6) {
        const len = utf8Into(g, buf);
        if (len < 6) {
          const norm = this.map.shortestPrefixReplacement(buf, 0, len);
          if (norm !== null) {
            modified = true;
            pushReplacement(changes, norm, countCodePoints(g));
            continue;
          }
        }
      }
      for (const c of g) {
        const len = utf8Into(c, buf);
        const norm = this.map.shortestPrefixReplacement(buf, 0, len);
        if (norm !== null) {
          modified = true;
          pushReplacement(changes, norm, 1);
        } else changes.push([c, 0]);
      }
    }
    if (modified) n.transform(changes, 0);
  }

  toJSON(): Record<string, unknown> {
    return { type: 'Precompiled', precompiled_charsmap: this.charsmapBase64 };
  }
}
