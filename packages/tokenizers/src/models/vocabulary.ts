/**
 * Token ↔ id lookups for large vocabularies, in typed arrays. Besides `get(token)`, it finds the
 * id of a slice of a string (or of two slices joined) without creating the substring: loading
 * 280k BPE merges then costs a hash over chars per part instead of three new strings each, which
 * was most of the load time of a 128k-vocabulary tokenizer.json.
 */
export class Vocabulary {
  /** Token of each id (holes where an id is unused). */
  readonly tokens: string[];
  /** Number of tokens. */
  readonly size: number;
  private readonly mask: number;
  /** Open addressing: [id, hash] per slot, id -1 when empty. */
  private readonly slots: Int32Array;
  /** All tokens' UTF-16 units back to back, so a probe reads one contiguous run. */
  private readonly chars: Uint16Array;
  private readonly starts: Int32Array;
  /** Tokens whose id another token also has (the reference keeps both); rare. */
  private readonly shadowed: Map<string, number> | null;

  private constructor(tokens: string[], size: number, shadowed: Map<string, number> | null) {
    this.tokens = tokens;
    this.shadowed = shadowed;
    this.size = size;
    let cap = 16;
    while (cap < size * 2) cap <<= 1;
    this.mask = cap - 1;
    this.slots = new Int32Array(2 * cap).fill(-1);
    let total = 0;
    for (let id = 0; id < tokens.length; id++) total += tokens[id]?.length ?? 0;
    this.chars = new Uint16Array(total);
    this.starts = new Int32Array(tokens.length + 1);
    let w = 0;
    for (let id = 0; id < tokens.length; id++) {
      this.starts[id] = w;
      const t = tokens[id];
      if (t === undefined) continue;
      for (let k = 0; k < t.length; k++) this.chars[w++] = t.charCodeAt(k);
      const h = mix(hashRange(t, 0, t.length, FNV_OFFSET)) | 0;
      let i = h & this.mask;
      while (this.slots[2 * i] !== -1) i = (i + 1) & this.mask;
      this.slots[2 * i] = id;
      this.slots[2 * i + 1] = h;
    }
    this.starts[tokens.length] = w;
  }

  /** Reads a tokenizer.json `vocab` object (token → id), checking every id. */
  static fromJSON(v: unknown, where: string): Vocabulary {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}.vocab: expected an object mapping token to id, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`);
    const o = v as Record<string, unknown>;
    const tokens: string[] = [];
    let shadowed: Map<string, number> | null = null;
    let size = 0;
    // for...in avoids materializing 100k+ [key, value] pairs on large vocabularies.
    for (const t in o) {
      const id = o[t];
      if (typeof id !== 'number' || id < 0 || id % 1 !== 0) throw new Error(`${where}.vocab[${JSON.stringify(t)}]: expected a non-negative integer id, got ${JSON.stringify(id)}`);
      if (tokens[id] !== undefined) (shadowed ??= new Map()).set(tokens[id]!, id);
      tokens[id] = t;
      size++;
    }
    return new Vocabulary(tokens, size, shadowed);
  }

  /** Wraps a token → id Map. */
  static fromMap(m: ReadonlyMap<string, number>): Vocabulary {
    const tokens: string[] = [];
    let shadowed: Map<string, number> | null = null;
    for (const [t, id] of m) {
      if (tokens[id] !== undefined) (shadowed ??= new Map()).set(tokens[id]!, id);
      tokens[id] = t;
    }
    return new Vocabulary(tokens, m.size, shadowed);
  }

  /** Id of a token. */
  get(token: string): number | undefined {
    const id = this.find(token, 0, token.length, null, 0, 0);
    return id < 0 ? undefined : id;
  }

  /** Whether the token is in the vocabulary. */
  has(token: string): boolean {
    return this.find(token, 0, token.length, null, 0, 0) >= 0;
  }

  /** Id of s[start, end) followed by s2[start2, end2) (pass null for no second part), or -1. */
  find(s: string, start: number, end: number, s2: string | null, start2: number, end2: number): number {
    let h = hashRange(s, start, end, FNV_OFFSET);
    const len = end - start + (s2 === null ? 0 : end2 - start2);
    if (s2 !== null) h = hashRange(s2, start2, end2, h);
    h = mix(h) | 0;
    const slots = this.slots;
    const mask = this.mask;
    const chars = this.chars;
    const starts = this.starts;
    const n1 = end - start;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = slots[2 * i]!;
      if (id < 0) return this.shadowed === null ? -1 : (this.shadowed.get(s.slice(start, end) + (s2 === null ? '' : s2.slice(start2, end2))) ?? -1);
      if (slots[2 * i + 1] !== h) continue;
      const at = starts[id]!;
      if (starts[id + 1]! - at !== len) continue;
      let same = true;
      for (let k = 0; k < n1; k++) if (chars[at + k] !== s.charCodeAt(start + k)) { same = false; break; }
      if (same && s2 !== null) for (let k = 0; k < end2 - start2; k++) if (chars[at + n1 + k] !== s2.charCodeAt(start2 + k)) { same = false; break; }
      if (same) return id;
    }
  }

  /** A token → id Map (a copy). */
  toMap(): Map<string, number> {
    const m = new Map<string, number>(this.shadowed ?? []);
    this.tokens.forEach((t, id) => m.set(t, id));
    return m;
  }
}

const FNV_OFFSET = 0x811c9dc5;

// FNV-1a over UTF-16 units, continuing from `h` so that two slices hash as their concatenation.
function hashRange(s: string, start: number, end: number, h: number): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

// Spreads FNV's weak low bits before masking.
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
