import { CONTROL_ONLY_JS, CONTROL_ONLY_RUST, inRanges } from '../char-class-exceptions.js';
import type { CharChange, NormalizedString } from '../normalized-string.js';
import { isWhitespace } from '../normalized-string.js';
import type { Normalizer } from './normalizer.js';
import { lowercase } from './lowercase.js';
import { normalizeUnicode, stripAccents } from './strip.js';

/** Options of the BERT normalizer, as in tokenizer.json. */
export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean | null;
  lowercase: boolean;
}

// Rust's `is_other` here covers Cc, Cf and Co; unassigned (Cn) chars are kept.
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}]$/u;

// BERT's notion of whitespace: \t \n \r count as whitespace, not as control chars.
function isBertWhitespace(c: string): boolean {
  return c === '\t' || c === '\n' || c === '\r' || isWhitespace(c);
}

function isBertControl(c: string): boolean {
  if (c === '\t' || c === '\n' || c === '\r') return false;
  const cp = c.codePointAt(0)!;
  if (CONTROL.test(c)) return !inRanges(cp, CONTROL_ONLY_JS);
  return inRanges(cp, CONTROL_ONLY_RUST);
}

/** The CJK ideograph blocks that BERT surrounds with spaces. */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** The BertNormalizer: clean text, pad CJK chars, strip accents, lowercase. */
export class BertNormalizer implements Normalizer {
  constructor(readonly options: BertNormalizerOptions) {}

  normalize(n: NormalizedString): void {
    const o = this.options;
    if (o.cleanText) {
      n.filter((c) => !(c === '\0' || c === '\ufffd' || isBertControl(c)));
      n.mapChars((c) => (isBertWhitespace(c) ? ' ' : c));
    }
    if (o.handleChineseChars) {
      const changes: CharChange[] = [];
      let any = false;
      for (const c of n.normalized) {
        if (isChineseChar(c.codePointAt(0)!)) {
          any = true;
          changes.push([' ', 0], [c, 1], [' ', 1]);
        } else changes.push([c, 0]);
      }
      if (any) n.transform(changes, 0);
    }
    const strip = o.stripAccents ?? o.lowercase;
    if (strip) {
      normalizeUnicode(n, 'NFD');
      stripAccents(n);
    }
    if (o.lowercase) lowercase(n);
  }

  toJSON(): Record<string, unknown> {
    const o = this.options;
    return { type: 'BertNormalizer', clean_text: o.cleanText, handle_chinese_chars: o.handleChineseChars, strip_accents: o.stripAccents, lowercase: o.lowercase };
  }
}
