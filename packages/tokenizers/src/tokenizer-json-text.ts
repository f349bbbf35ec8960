import type { PackedMerges } from './models/bpe.js';
import { Vocabulary } from './models/vocabulary.js';

/** A BPE tokenizer.json read from text with its two large fields decoded straight into typed arrays. */
export interface ScannedTokenizerJSON {
  /** The file with `model.vocab` replaced by {} and `model.merges` by [], parsed by JSON.parse. */
  json: Record<string, unknown>;
  vocab: Vocabulary;
  merges: PackedMerges | null;
}

// Thrown inside the scanner for any shape it does not handle; the caller then uses JSON.parse.
class NotFastPath extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Growable buffer of UTF-16 units. */
class Units {
  buf = new Uint16Array(1 << 16);
  length = 0;
  push(c: number): void {
    if (this.length === this.buf.length) {
      const b = new Uint16Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = c;
  }
}

/** Growable Int32 list. */
class Ints {
  buf = new Int32Array(1 << 14);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const b = new Int32Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = v;
  }
}

/**
 * Reads a tokenizer.json text whose model is BPE without creating a string per vocabulary token
 * or merge: JSON.parse on a 128k-token file spends most of its time making those ~700k strings
 * and the vocabulary's dictionary object, which the model then copies anyway. Everything else in
 * the file goes through JSON.parse. Returns null for any other shape (a non-BPE model, unusual
 * numbers, duplicate tokens, malformed text), so the caller falls back to the general path, which
 * also produces the detailed errors.
 */
export function scanTokenizerJson(text: string): ScannedTokenizerJSON | null {
  try {
    return new Scanner(text).run();
  } catch (err) {
    if (err instanceof NotFastPath) return null;
    throw err;
  }
}

class Scanner {
  private pos = 0;
  private vocabSpan: [number, number] | null = null;
  private mergesSpan: [number, number] | null = null;
  private vocab: Vocabulary | null = null;
  private merges: PackedMerges | null = null;

  constructor(private readonly s: string) {}

  run(): ScannedTokenizerJSON | null {
    this.ws();
    this.expect(0x7b);
    this.objectEntries((key) => {
      if (key === 'model' && this.peek() === 0x7b) this.model();
      else this.skipValue();
    });
    this.ws();
    if (this.pos !== this.s.length || !this.vocab || !this.vocabSpan) throw new NotFastPath();
    const spans: Array<[number, number, string]> = [[...this.vocabSpan, '{}']];
    if (this.mergesSpan) spans.push([...this.mergesSpan, '[]']);
    spans.sort((a, b) => a[0] - b[0]);
    let rest = '';
    let at = 0;
    for (const [a, b, fill] of spans) {
      rest += this.s.slice(at, a) + fill;
      at = b;
    }
    rest += this.s.slice(at);
    const json = JSON.parse(rest) as Record<string, unknown>;
    const model = json.model as Record<string, unknown>;
    // Only BPE models take this path; for others the general path reads the file again.
    const type = typeof model.type === 'string' ? model.type : 'merges' in model ? 'BPE' : null;
    if (type !== 'BPE') return null;
    return { json, vocab: this.vocab, merges: this.merges };
  }

  private model(): void {
    this.expect(0x7b);
    this.objectEntries((key) => {
      const c = this.peek();
      if ((key === 'vocab' && this.vocabSpan) || (key === 'merges' && this.mergesSpan)) throw new NotFastPath();
      if (key === 'type' && c === QUOTE) {
        // Leave other models to JSON.parse at once rather than after decoding their vocabulary.
        const start = this.pos;
        this.skipString();
        if (this.s.slice(start, this.pos) !== '"BPE"') throw new NotFastPath();
        return;
      }
      if (key === 'vocab' && c === 0x7b) {
        const start = this.pos;
        this.vocab = this.readVocab();
        this.vocabSpan = [start, this.pos];
      } else if (key === 'merges' && c === 0x5b) {
        const start = this.pos;
        this.merges = this.readMerges();
        this.mergesSpan = [start, this.pos];
      } else this.skipValue();
    });
  }

  private readVocab(): Vocabulary {
    const chars = new Units();
    const starts = new Ints();
    const ids = new Ints();
    this.expect(0x7b);
    this.ws();
    if (this.peek() !== 0x7d) {
      for (;;) {
        this.ws();
        starts.push(chars.length);
        this.readStringInto(chars);
        this.ws();
        this.expect(0x3a);
        this.ws();
        ids.push(this.readId());
        this.ws();
        const c = this.next();
        if (c === 0x7d) break;
        if (c !== 0x2c) throw new NotFastPath();
      }
    } else this.pos++;
    starts.push(chars.length);
    const v = Vocabulary.fromPacked(chars.buf.subarray(0, chars.length), starts.buf.subarray(0, starts.length), ids.buf.subarray(0, ids.length), ids.length);
    if (!v) throw new NotFastPath();
    return v;
  }

  private readMerges(): PackedMerges {
    const chars = new Units();
    const bounds = new Ints();
    let count = 0;
    this.expect(0x5b);
    this.ws();
    if (this.peek() === 0x5d) {
      this.pos++;
      return { chars: chars.buf.subarray(0, 0), bounds: bounds.buf.subarray(0, 0), count: 0 };
    }
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === QUOTE) {
        // "left right": split at the first space of the decoded text.
        const start = chars.length;
        this.readStringInto(chars);
        let sp = -1;
        for (let k = start; k < chars.length; k++) if (chars.buf[k] === 0x20) { sp = k; break; }
        if (sp < 0) throw new NotFastPath();
        bounds.push(start);
        bounds.push(sp);
        bounds.push(sp + 1);
        bounds.push(chars.length);
      } else if (c === 0x5b) {
        this.pos++;
        this.ws();
        const a = chars.length;
        this.readStringInto(chars);
        const b = chars.length;
        this.ws();
        this.expect(0x2c);
        this.ws();
        this.readStringInto(chars);
        this.ws();
        this.expect(0x5d);
        bounds.push(a);
        bounds.push(b);
        bounds.push(b);
        bounds.push(chars.length);
      } else throw new NotFastPath();
      count++;
      this.ws();
      const d = this.next();
      if (d === 0x5d) break;
      if (d !== 0x2c) throw new NotFastPath();
    }
    return { chars: chars.buf.subarray(0, chars.length), bounds: bounds.buf.subarray(0, bounds.length), count };
  }

  /** Calls `onKey` with the reader placed at each value; the callback must consume it. */
  private objectEntries(onKey: (key: string) => void): void {
    this.ws();
    if (this.peek() === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      const start = this.pos;
      this.skipString();
      const key = JSON.parse(this.s.slice(start, this.pos)) as string;
      this.ws();
      this.expect(0x3a);
      this.ws();
      onKey(key);
      this.ws();
      const c = this.next();
      if (c === 0x7d) return;
      if (c !== 0x2c) throw new NotFastPath();
    }
  }

  private readId(): number {
    const s = this.s;
    let v = 0;
    let digits = 0;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      digits++;
      this.pos++;
    }
    // Signs, fractions and exponents (or absurd ids) go to the general path and its checks.
    if (digits === 0 || digits > 9) throw new NotFastPath();
    const c = s.charCodeAt(this.pos);
    if (c === 0x2e || c === 0x65 || c === 0x45) throw new NotFastPath();
    return v;
  }

  /** Decodes one JSON string (escapes included) into `out`. */
  private readStringInto(out: Units): void {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== QUOTE) throw new NotFastPath();
    let i = this.pos + 1;
    for (;;) {
      if (i >= s.length) throw new NotFastPath();
      const c = s.charCodeAt(i++);
      if (c === QUOTE) break;
      if (c < 0x20) throw new NotFastPath();
      if (c !== BACKSLASH) {
        out.push(c);
        continue;
      }
      const e = s.charCodeAt(i++);
      switch (e) {
        case 0x22: out.push(0x22); break;
        case 0x5c: out.push(0x5c); break;
        case 0x2f: out.push(0x2f); break;
        case 0x62: out.push(0x08); break;
        case 0x66: out.push(0x0c); break;
        case 0x6e: out.push(0x0a); break;
        case 0x72: out.push(0x0d); break;
        case 0x74: out.push(0x09); break;
        case 0x75: {
          const h = s.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new NotFastPath();
          out.push(parseInt(h, 16));
          i += 4;
          break;
        }
        default:
          throw new NotFastPath();
      }
    }
    this.pos = i;
  }

  private skipString(): void {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== QUOTE) throw new NotFastPath();
    let i = this.pos + 1;
    for (;;) {
      const q = s.indexOf('"', i);
      if (q < 0) throw new NotFastPath();
      let k = q - 1;
      while (s.charCodeAt(k) === BACKSLASH) k--;
      i = q + 1;
      // An even number of backslashes before the quote: it closes the string.
      if ((q - 1 - k) % 2 === 0) break;
    }
    this.pos = i;
  }

  private skipValue(): void {
    const s = this.s;
    const c = this.peek();
    if (c === QUOTE) return this.skipString();
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      for (;;) {
        if (this.pos >= s.length) throw new NotFastPath();
        const d = s.charCodeAt(this.pos);
        if (d === QUOTE) { this.skipString(); continue; }
        this.pos++;
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          if (--depth === 0) return;
        }
      }
    }
    // A number, true, false or null.
    const start = this.pos;
    for (;;) {
      const d = s.charCodeAt(this.pos);
      if (Number.isNaN(d) || d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
      this.pos++;
    }
    if (this.pos === start) throw new NotFastPath();
  }

  private ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else return;
    }
  }

  private peek(): number {
    return this.s.charCodeAt(this.pos);
  }

  private next(): number {
    return this.s.charCodeAt(this.pos++);
  }

  private expect(c: number): void {
    if (this.s.charCodeAt(this.pos) !== c) throw new NotFastPath();
    this.pos++;
  }
}
