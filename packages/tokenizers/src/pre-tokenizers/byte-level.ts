import { NormalizedString } from '../normalized-string.js';
import { RegexPattern } from '../pattern.js';
import type { PreTokenizer } from './pre-tokenizer.js';

/** GPT-2's pre-tokenization regex, used by ByteLevel when `use_regex` is set. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** GPT-2's byte → printable char table. */
export const BYTE_TO_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCharCode(cs[i]!)));
  return table;
})();

/** The inverse of BYTE_TO_CHAR, keyed by char code. */
export const CHAR_TO_BYTE: Map<number, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c.charCodeAt(0), b]));

const encoder = new TextEncoder();

/** Maps every byte of the UTF-8 encoding to its printable char, each aligned to its source char. */
export function byteLevelTransform(n: NormalizedString): void {
  const src = n.normalized;
  const len = src.length;
  // Pure ASCII is the common case: one unit in, one unit out.
  let ascii = true;
  for (let i = 0; i < len; i++) if (src.charCodeAt(i) >= 0x80) { ascii = false; break; }
  if (ascii) {
    let out = '';
    for (let i = 0; i < len; i++) out += BYTE_TO_CHAR[src.charCodeAt(i)]!;
    n.normalized = out;
    return;
  }
  const parts: string[] = [];
  const as: number[] = [];
  const ae: number[] = [];
  const buf = new Uint8Array(4);
  for (let i = 0; i < len; ) {
    const cp = src.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    const s = n.alignStart[i]!;
    const e = n.alignEnd[i]!;
    if (cp < 0x80) {
      parts.push(BYTE_TO_CHAR[cp]!);
      as.push(s); ae.push(e);
    } else {
      const k = encoder.encodeInto(String.fromCodePoint(cp), buf).written;
      for (let j = 0; j < k; j++) { parts.push(BYTE_TO_CHAR[buf[j]!]!); as.push(s); ae.push(e); }
    }
    i += w;
  }
  n.normalized = parts.join('');
  n.alignStart = Int32Array.from(as);
  n.alignEnd = Int32Array.from(ae);
}

/** Options of the ByteLevel stage as stored in tokenizer.json. */
export interface ByteLevelOptions {
  addPrefixSpace: boolean;
  trimOffsets: boolean;
  useRegex: boolean;
}

/** Byte-level pre-tokenizer: optional prefix space, GPT-2 split, bytes to printable chars. */
export class ByteLevelPreTokenizer implements PreTokenizer {
  private readonly pattern = new RegexPattern(GPT2_PATTERN);
  constructor(readonly options: ByteLevelOptions) {}

  split(piece: NormalizedString): NormalizedString[] {
    if (this.options.addPrefixSpace && !piece.normalized.startsWith(' ')) piece.prepend(' ');
    const pieces = this.options.useRegex ? piece.split(this.pattern, 'Isolated') : [piece];
    for (const p of pieces) byteLevelTransform(p);
    return pieces;
  }

  toJSON(): Record<string, unknown> {
    const o = this.options;
    return { type: 'ByteLevel', add_prefix_space: o.addPrefixSpace, trim_offsets: o.trimOffsets, use_regex: o.useRegex };
  }
}
