import type { NormalizedString, Pattern } from './normalized-string.js';
import { Bpe } from './models/bpe.js';
import type { Model } from './models/model.js';
import type { Normalizer } from './normalizers/normalizer.js';
import { UnicodeNormalizer } from './normalizers/unicode-forms.js';
import { BYTE_TO_CHAR, ByteLevelPreTokenizer, GPT2_PATTERN } from './pre-tokenizers/byte-level.js';
import type { PreTokenizer } from './pre-tokenizers/pre-tokenizer.js';
import { SequencePreTokenizer } from './pre-tokenizers/sequence.js';
import { SplitPreTokenizer } from './pre-tokenizers/split.js';
import { RegexPattern } from './pattern.js';

interface WordResult {
  ids: number[];
  /** Flat [start, end) pairs in UTF-16 units of the raw word. */
  offsets: number[];
}

const CACHE_CAPACITY = 20_000;
const encoder = new TextEncoder();

/**
 * The byte-level BPE pipeline (GPT-2, Llama 3, Qwen2/3) without per-word NormalizedStrings:
 * regex words map straight to byte chars and BPE tokens, with offsets computed from the raw
 * word. Used only when the pipeline is exactly split-regex + ByteLevel on text the normalizer
 * left unchanged, so the result is the general path's, faster.
 */
export class ByteLevelWords {
  private readonly cache = new Map<string, WordResult>();
  private constructor(private readonly pattern: Pattern, private readonly model: Model) {}

  /** A fast path for this pipeline, or null when it does not have the supported shape. */
  static detect(normalizer: Normalizer | null, preTokenizer: PreTokenizer | null, model: Model): ByteLevelWords | null {
    if (!(model instanceof Bpe)) return null;
    if (normalizer !== null && !(normalizer instanceof UnicodeNormalizer)) return null;
    let pattern: Pattern | null = null;
    if (preTokenizer instanceof ByteLevelPreTokenizer && !preTokenizer.options.addPrefixSpace && preTokenizer.options.useRegex) pattern = new RegexPattern(GPT2_PATTERN);
    else if (preTokenizer instanceof SequencePreTokenizer && preTokenizer.stages.length === 2) {
      const [split, bytes] = preTokenizer.stages;
      if (
        split instanceof SplitPreTokenizer &&
        split.behavior === 'Isolated' &&
        !split.invert &&
        bytes instanceof ByteLevelPreTokenizer &&
        !bytes.options.addPrefixSpace &&
        !bytes.options.useRegex
      )
        pattern = split.pattern;
    }
    return pattern ? new ByteLevelWords(pattern, model) : null;
  }

  /** Whether a piece can take the fast path: the normalizer left it unchanged. */
  accepts(piece: NormalizedString): boolean {
    return piece.normalized === piece.original;
  }

  /**
   * Encodes every word of the piece, calling `push` per token with offsets in UTF-16 units of
   * the full input; returns the next word index.
   */
  encode(piece: NormalizedString, word: number, push: (id: number, s: number, e: number, word: number) => void): number {
    const text = piece.normalized;
    const base = piece.originalShift;
    for (const [s, e] of this.pattern.findMatches(text)) {
      if (e <= s) continue;
      const raw = text.slice(s, e);
      let r = this.cache.get(raw);
      if (!r) {
        r = this.encodeWord(raw);
        if (this.cache.size >= CACHE_CAPACITY) this.cache.clear();
        this.cache.set(raw, r);
      }
      const { ids, offsets } = r;
      for (let k = 0; k < ids.length; k++) push(ids[k]!, base + s + offsets[2 * k]!, base + s + offsets[2 * k + 1]!, word);
      word++;
    }
    return word;
  }

  private encodeWord(raw: string): WordResult {
    let ascii = true;
    for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) >= 0x80) { ascii = false; break; }
    if (ascii) {
      let mapped = '';
      for (let i = 0; i < raw.length; i++) mapped += BYTE_TO_CHAR[raw.charCodeAt(i)]!;
      const t = this.model.tokenize(mapped);
      return { ids: Array.from(t.ids), offsets: Array.from(t.offsets) };
    }
    // Each byte char aligns to the whole source char: unit u of the mapped word → [charStart, charEnd).
    const starts: number[] = [];
    const ends: number[] = [];
    let mapped = '';
    const buf = new Uint8Array(4);
    for (let i = 0; i < raw.length; ) {
      const cp = raw.codePointAt(i)!;
      const w = cp > 0xffff ? 2 : 1;
      const n = cp < 0x80 ? ((buf[0] = cp), 1) : encoder.encodeInto(String.fromCodePoint(cp), buf).written;
      for (let j = 0; j < n; j++) { mapped += BYTE_TO_CHAR[buf[j]!]!; starts.push(i); ends.push(i + w); }
      i += w;
    }
    const t = this.model.tokenize(mapped);
    const offsets: number[] = [];
    for (let k = 0; k < t.ids.length; k++) offsets.push(starts[t.offsets[2 * k]!]!, ends[t.offsets[2 * k + 1]! - 1]!);
    return { ids: Array.from(t.ids), offsets };
  }
}
