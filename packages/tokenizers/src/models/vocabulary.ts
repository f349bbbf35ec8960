/**
 * Token ↔ id lookups for large vocabularies, held in typed arrays: every token's UTF-16 units back
 * to back plus an open-addressing hash table. Besides `get(token)`, it finds the id of a range of
 * units (or two ranges joined) without creating a string, so that loading 280k BPE merges costs a
 * hash over chars per part instead of three new strings each; token strings are made on demand.
 */
export class Vocabulary {
  /** Number of (token, id) entries. */
  readonly size: number;
  private readonly chars: Uint16Array;
  /** Entry e spans chars[entryStart[e], entryStart[e + 1]). */
  private readonly entryStart: Int32Array;
  private readonly entryId: Int32Array;
  /** Entry of each id (the last one given that id), -1 for an unused id. */
  private readonly idEntry: Int32Array;
  private readonly tokenCache: Array<string | undefined>;
  private readonly mask: number;
  /** Open addressing: [entry, hash, chars start, length] per slot (one probe reads one cache line), entry -1 when empty. */
  private readonly slots: Int32Array;

  /**
   * Builds the table from packed entries. Returns null when a token occurs twice (the caller then
   * takes the general path, which keeps JSON.parse's last-one-wins rule).
   */
  static fromPacked(chars: Uint16Array, entryStart: Int32Array, entryId: Int32Array, count: number, tokens: string[] = [], checkDuplicates = true): Vocabulary | null {
    const v = new Vocabulary(chars, entryStart, entryId, count, tokens);
    return v.insertAll(checkDuplicates) ? v : null;
  }

  private constructor(chars: Uint16Array, entryStart: Int32Array, entryId: Int32Array, count: number, tokens: Array<string | undefined>) {
    this.size = count;
    this.chars = chars;
    this.entryStart = entryStart;
    this.entryId = entryId;
    let maxId = -1;
    for (let e = 0; e < count; e++) if (entryId[e]! > maxId) maxId = entryId[e]!;
    this.idEntry = new Int32Array(maxId + 1).fill(-1);
    for (let e = 0; e < count; e++) this.idEntry[entryId[e]!] = e;
    this.tokenCache = tokens;
    let cap = 16;
    while (cap < count * 2) cap <<= 1;
    this.mask = cap - 1;
    this.slots = new Int32Array(4 * cap).fill(-1);
  }

  private insertAll(checkDuplicates: boolean): boolean {
    const { chars, entryStart, slots, mask } = this;
    for (let e = 0; e < this.size; e++) {
      const s = entryStart[e]!;
      const end = entryStart[e + 1]!;
      const raw = hashUnits(chars, s, end, FNV_OFFSET);
      if (checkDuplicates && this.findUnits(chars, s, end, 0, 0, raw) >= 0) return false;
      const h = mix(raw) | 0;
      let i = h & mask;
      while (slots[4 * i] !== -1) i = (i + 1) & mask;
      slots[4 * i] = e;
      slots[4 * i + 1] = h;
      slots[4 * i + 2] = s;
      slots[4 * i + 3] = end - s;
    }
    return true;
  }

  /** Reads a tokenizer.json `vocab` object (token → id), checking every id. */
  static fromJSON(v: unknown, where: string): Vocabulary {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}.vocab: expected an object mapping token to id, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`);
    const o = v as Record<string, unknown>;
    const tokens: string[] = [];
    const ids: number[] = [];
    let total = 0;
    // for...in avoids materializing 100k+ [key, value] pairs on large vocabularies.
    for (const t in o) {
      const id = o[t];
      if (typeof id !== 'number' || id < 0 || id % 1 !== 0) throw new Error(`${where}.vocab[${JSON.stringify(t)}]: expected a non-negative integer id, got ${JSON.stringify(id)}`);
      tokens.push(t);
      ids.push(id);
      total += t.length;
    }
    return Vocabulary.fromTokens(tokens, ids, total);
  }

  /** Wraps a token → id Map. */
  static fromMap(m: ReadonlyMap<string, number>): Vocabulary {
    const tokens: string[] = [];
    const ids: number[] = [];
    let total = 0;
    for (const [t, id] of m) {
      tokens.push(t);
      ids.push(id);
      total += t.length;
    }
    return Vocabulary.fromTokens(tokens, ids, total);
  }

  private static fromTokens(tokens: string[], ids: number[], total: number): Vocabulary {
    const n = tokens.length;
    const chars = new Uint16Array(total);
    const entryStart = new Int32Array(n + 1);
    const entryId = new Int32Array(n);
    let w = 0;
    const cache: string[] = [];
    for (let e = 0; e < n; e++) {
      const t = tokens[e]!;
      entryStart[e] = w;
      entryId[e] = ids[e]!;
      for (let k = 0; k < t.length; k++) chars[w++] = t.charCodeAt(k);
      cache[ids[e]!] = t;
    }
    entryStart[n] = w;
    // Object keys and Map keys are unique: no duplicate check.
    return Vocabulary.fromPacked(chars, entryStart, entryId, n, cache, false)!;
  }

  /** Id of a token. */
  get(token: string): number | undefined {
    const e = this.findString(token);
    return e < 0 ? undefined : this.entryId[e];
  }

  /** Whether the token is in the vocabulary. */
  has(token: string): boolean {
    return this.findString(token) >= 0;
  }

  /** Token of an id. */
  token(id: number): string | undefined {
    const cached = this.tokenCache[id];
    if (cached !== undefined) return cached;
    const e = id >= 0 && id < this.idEntry.length ? this.idEntry[id]! : -1;
    if (e < 0) return undefined;
    const t = unitsToString(this.chars, this.entryStart[e]!, this.entryStart[e + 1]!);
    this.tokenCache[id] = t;
    return t;
  }

  /** Id of buf[start, end) followed by buf[start2, end2) (an empty second range for none), or -1. */
  idOfUnits(buf: Uint16Array, start: number, end: number, start2: number, end2: number): number {
    const e = this.findUnits(buf, start, end, start2, end2, hashUnits(buf, start2, end2, hashUnits(buf, start, end, FNV_OFFSET)));
    return e < 0 ? -1 : this.entryId[e]!;
  }

  /** Raw (unmixed) hash state of buf[start, end) continued from `h`, for `idOfHashedUnits`. */
  static hashUnits(buf: Uint16Array, start: number, end: number, h: number = FNV_OFFSET): number {
    return hashUnits(buf, start, end, h);
  }

  /** As `idOfUnits`, with the raw hash of the joined ranges already computed by `Vocabulary.hashUnits`. */
  idOfHashedUnits(buf: Uint16Array, start: number, end: number, start2: number, end2: number, rawHash: number): number {
    const e = this.findUnits(buf, start, end, start2, end2, rawHash);
    return e < 0 ? -1 : this.entryId[e]!;
  }

  /** Id of s[start, end) followed by s2[start2, end2) (pass null for none), or -1. */
  idOfSlices(s: string, start: number, end: number, s2: string | null, start2: number, end2: number): number {
    let h = hashString(s, start, end, FNV_OFFSET);
    if (s2 !== null) h = hashString(s2, start2, end2, h);
    h = mix(h) | 0;
    const n1 = end - start;
    const len = n1 + (s2 === null ? 0 : end2 - start2);
    const { slots, mask, chars } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[4 * i]!;
      if (e < 0) return -1;
      if (slots[4 * i + 1] !== h || slots[4 * i + 3] !== len) continue;
      const at = slots[4 * i + 2]!;
      let same = true;
      for (let k = 0; k < n1; k++) if (chars[at + k] !== s.charCodeAt(start + k)) { same = false; break; }
      if (same && s2 !== null) for (let k = 0; k < end2 - start2; k++) if (chars[at + n1 + k] !== s2.charCodeAt(start2 + k)) { same = false; break; }
      if (same) return this.entryId[e]!;
    }
  }

  private findString(s: string): number {
    const h = mix(hashString(s, 0, s.length, FNV_OFFSET)) | 0;
    const { slots, mask, chars } = this;
    const len = s.length;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[4 * i]!;
      if (e < 0) return -1;
      if (slots[4 * i + 1] !== h || slots[4 * i + 3] !== len) continue;
      const at = slots[4 * i + 2]!;
      let k = 0;
      while (k < len && chars[at + k] === s.charCodeAt(k)) k++;
      if (k === len) return e;
    }
  }

  private findUnits(buf: Uint16Array, start: number, end: number, start2: number, end2: number, rawHash: number): number {
    const h = mix(rawHash) | 0;
    const n1 = end - start;
    const len = n1 + end2 - start2;
    const { slots, mask, chars } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[4 * i]!;
      if (e < 0) return -1;
      if (slots[4 * i + 1] !== h || slots[4 * i + 3] !== len) continue;
      const at = slots[4 * i + 2]!;
      let same = true;
      for (let k = 0; k < n1; k++) if (chars[at + k] !== buf[start + k]) { same = false; break; }
      if (same) for (let k = 0; k < end2 - start2; k++) if (chars[at + n1 + k] !== buf[start2 + k]) { same = false; break; }
      if (same) return e;
    }
  }

  /** A token → id Map (a copy), in the order the entries were read. */
  toMap(): Map<string, number> {
    const m = new Map<string, number>();
    for (let e = 0; e < this.size; e++) m.set(unitsToString(this.chars, this.entryStart[e]!, this.entryStart[e + 1]!), this.entryId[e]!);
    return m;
  }
}

const FNV_OFFSET = 0x811c9dc5;

// FNV-1a over UTF-16 units, continuing from `h` so that two ranges hash as their concatenation.
function hashString(s: string, start: number, end: number, h: number): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

function hashUnits(s: Uint16Array, start: number, end: number, h: number): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ s[i]!, 0x01000193);
  return h;
}

// Spreads FNV's weak low bits before masking.
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** The string of units buf[start, end). */
export function unitsToString(buf: Uint16Array, start: number, end: number): string {
  if (end - start < 4096) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  let out = '';
  for (let i = start; i < end; i += 4096) out += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return out;
}
