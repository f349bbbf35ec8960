import { MergeTable } from './merge-table.js';
import { unitsToString, Vocabulary } from './vocabulary.js';
import type { MergeDropout, Model, WordTokens } from './model.js';

/** Options of a BPE model, as in tokenizer.json. */
export interface BpeOptions {
  unkToken: string | null;
  continuingSubwordPrefix: string | null;
  endOfWordSuffix: string | null;
  fuseUnk: boolean;
  byteFallback: boolean;
  ignoreMerges: boolean;
  /** The file's `dropout` (kept for toJSON and as the default rate of `encode`'s `bpeDropout`); encoding ignores it unless asked. */
  dropout?: number | null;
}

// Queue keys pack rank and position; positions stay below 2^24 chars per word.
const POS = 2 ** 24;
const CACHE_CAPACITY = 10_000;
const CACHE_MAX_WORD = 256;
const MARKER = '▁';
const MARKER_CODE = 0x2581;
const utf8 = new TextEncoder();

/** One merge as tokenizer.json stores it: "left right" or [left, right]. */
export type MergeJSON = string | readonly [string, string];

/**
 * Merges decoded from tokenizer.json text into one buffer (see tokenizer-json-text.ts): merge r
 * joins chars[bounds[4r], bounds[4r+1]) and chars[bounds[4r+2], bounds[4r+3]).
 */
export interface PackedMerges {
  chars: Uint16Array;
  bounds: Int32Array;
  count: number;
}

/** Byte-pair encoding with ranked merges, byte fallback and a word cache (Rust `BPE`). */
export class Bpe implements Model {
  readonly vocab: Vocabulary;
  private readonly merges: MergeTable;
  private readonly rawMerges: ReadonlyArray<MergeJSON> | PackedMerges;
  private mergeList: Array<[string, string]> | null = null;
  private readonly cache = new Map<string, WordTokens>();
  private readonly unkId: number | undefined;
  private readonly byteIds: Int32Array | null;
  /**
   * For SentencePiece-style vocabularies (▁ marks a word start): the chars after which a ▁ may
   * still be merged with what precedes it. Before any other ▁, no merge can cross, so long words
   * are cut there and each piece goes through the cache; null when cutting is not safe.
   */
  private readonly markerJoiners: Set<string> | null;

  constructor(vocab: Vocabulary | ReadonlyMap<string, number>, merges: ReadonlyArray<MergeJSON> | PackedMerges, readonly options: BpeOptions, where = 'model') {
    this.vocab = vocab instanceof Vocabulary ? vocab : Vocabulary.fromMap(vocab);
    this.rawMerges = merges;
    const count = Array.isArray(merges) ? merges.length : (merges as PackedMerges).count;
    this.merges = new MergeTable(count);
    const prefix = options.continuingSubwordPrefix ?? '';
    const hasMarker = !options.ignoreMerges && !options.continuingSubwordPrefix && !options.endOfWordSuffix && this.vocab.has(MARKER);
    const joiners = new Set<string>([MARKER]);
    const v = this.vocab;
    const fail = (rank: number, what: string, token: string): never => {
      throw new Error(`${where}.merges[${rank}]: ${what} ${JSON.stringify(token)} is not in ${where}.vocab; every merge ${what === 'token' ? 'part' : 'result'} must be a vocabulary token`);
    };
    if (!Array.isArray(merges)) {
      // Decoded from the file text: parts are ranges of one buffer, looked up without strings.
      const { chars, bounds } = merges as PackedMerges;
      const p = prefix.length;
      for (let rank = 0; rank < count; rank++) {
        const a0 = bounds[4 * rank]!;
        const a1 = bounds[4 * rank + 1]!;
        const b0 = bounds[4 * rank + 2]!;
        const b1 = bounds[4 * rank + 3]!;
        const ha = Vocabulary.hashUnits(chars, a0, a1);
        const ia = v.idOfHashedUnits(chars, a0, a1, 0, 0, ha);
        if (ia < 0) fail(rank, 'token', unitsToString(chars, a0, a1));
        const ib = v.idOfHashedUnits(chars, b0, b1, 0, 0, Vocabulary.hashUnits(chars, b0, b1));
        if (ib < 0) fail(rank, 'token', unitsToString(chars, b0, b1));
        let skip = 0;
        if (p > 0 && b1 - b0 >= p) {
          skip = p;
          for (let k = 0; k < p; k++) if (chars[b0 + k] !== prefix.charCodeAt(k)) { skip = 0; break; }
        }
        // The joined hash continues the left part's.
        const im = v.idOfHashedUnits(chars, a0, a1, b0 + skip, b1, Vocabulary.hashUnits(chars, b0 + skip, b1, ha));
        if (im < 0) fail(rank, 'merged token', unitsToString(chars, a0, a1) + unitsToString(chars, b0 + skip, b1));
        this.merges.set(ia, ib, rank, im);
        if (hasMarker && chars[b0] === MARKER_CODE) {
          for (let k = a0; k < a1; k++) if (chars[k] !== MARKER_CODE) { joiners.add(String.fromCharCode(chars[a1 - 1]!)); break; }
        }
      }
    }
    const list = Array.isArray(merges) ? (merges as ReadonlyArray<MergeJSON>) : [];
    // Parts are looked up as slices of the merge text, never as new strings (see Vocabulary).
    for (let rank = 0; rank < list.length; rank++) {
      const m = list[rank];
      let sa: string;
      let sb: string;
      let aEnd: number;
      let bStart: number;
      if (typeof m === 'string') {
        sa = sb = m;
        aEnd = m.indexOf(' ');
        if (aEnd < 0) throw new Error(`${where}.merges[${rank}]: expected "left right" separated by one space, got ${JSON.stringify(m)}`);
        bStart = aEnd + 1;
      } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
        sa = m[0];
        sb = m[1];
        aEnd = sa.length;
        bStart = 0;
      } else throw new Error(`${where}.merges[${rank}]: expected "left right" or [left, right], got ${JSON.stringify(m)}`);
      const bEnd = sb.length;
      const ia = v.idOfSlices(sa, 0, aEnd, null, 0, 0);
      if (ia < 0) fail(rank, 'token', sa.slice(0, aEnd));
      const ib = v.idOfSlices(sb, bStart, bEnd, null, 0, 0);
      if (ib < 0) fail(rank, 'token', sb.slice(bStart));
      // The merged token drops the right part's continuing-subword prefix.
      const skip = prefix.length > 0 && sb.startsWith(prefix, bStart) ? prefix.length : 0;
      const im = v.idOfSlices(sa, 0, aEnd, sb, bStart + skip, bEnd);
      if (im < 0) fail(rank, 'merged token', sa.slice(0, aEnd) + sb.slice(bStart + skip));
      this.merges.set(ia, ib, rank, im);
      // A merge (a, b) with b starting with ▁ and a not made of ▁ alone joins across a word start.
      if (hasMarker && sb.charCodeAt(bStart) === MARKER_CODE) {
        for (let k = 0; k < aEnd; k++) {
          if (sa.charCodeAt(k) !== MARKER_CODE) { joiners.add(sa[aEnd - 1]!); break; }
        }
      }
    }
    this.unkId = options.unkToken !== null ? this.vocab.get(options.unkToken) : undefined;
    if (options.byteFallback) {
      this.byteIds = new Int32Array(256).fill(-1);
      for (let b = 0; b < 256; b++) {
        const id = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
        if (id !== undefined) this.byteIds[b] = id;
      }
    } else this.byteIds = null;
    this.markerJoiners = hasMarker && joiners.size < 64 ? joiners : null;
  }

  /** Number of vocabulary entries. */
  get vocabSize(): number {
    return this.vocab.size;
  }

  /** Id of a vocabulary token. */
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Vocabulary token of an id. */
  idToToken(id: number): string | undefined {
    return this.vocab.token(id);
  }

  /** A copy of the vocabulary. */
  getVocab(): Map<string, number> {
    return this.vocab.toMap();
  }

  /** Splits one word into BPE tokens. */
  tokenize(word: string, dropout: MergeDropout | null = null): WordTokens {
    if (word.length === 0) return { ids: [], offsets: [] };
    if (dropout && dropout.rate > 0) {
      // Sampled segmentations bypass the cache in both directions, as in Rust.
      const whole = this.options.ignoreMerges ? this.vocab.get(word) : undefined;
      if (whole !== undefined) return { ids: [whole], offsets: [0, word.length] };
      return this.mergeWord(word, dropout);
    }
    const cached = this.cache.get(word);
    if (cached) return cached;
    let result: WordTokens;
    const whole = this.options.ignoreMerges ? this.vocab.get(word) : undefined;
    if (whole !== undefined) result = { ids: [whole], offsets: [0, word.length] };
    else if (word.length > CACHE_MAX_WORD && this.markerJoiners) return this.tokenizePieces(word);
    else result = this.mergeWord(word);
    if (word.length <= CACHE_MAX_WORD) {
      if (this.cache.size >= CACHE_CAPACITY) this.cache.clear();
      this.cache.set(word, result);
    }
    return result;
  }

  // Cuts a long word before each ▁ that no merge can join to its left, and tokenizes the pieces.
  private tokenizePieces(word: string): WordTokens {
    const joiners = this.markerJoiners!;
    const cuts: number[] = [];
    for (let i = word.indexOf(MARKER, 1); i > 0; i = word.indexOf(MARKER, i + 1)) if (!joiners.has(word[i - 1]!)) cuts.push(i);
    if (cuts.length === 0) return this.mergeWord(word);
    cuts.push(word.length);
    const ids: number[] = [];
    const offsets: number[] = [];
    let start = 0;
    for (const end of cuts) {
      const piece = word.slice(start, end);
      let t = this.cache.get(piece);
      if (!t) {
        t = this.mergeWord(piece);
        if (piece.length <= CACHE_MAX_WORD) {
          if (this.cache.size >= CACHE_CAPACITY) this.cache.clear();
          this.cache.set(piece, t);
        }
      }
      for (let k = 0; k < t.ids.length; k++) {
        ids.push(t.ids[k]!);
        offsets.push(t.offsets[2 * k]! + start, t.offsets[2 * k + 1]! + start);
      }
      start = end;
    }
    return { ids, offsets };
  }

  // Id of each BMP char as a whole symbol (-2: not looked up yet, -1: not in the vocabulary);
  // saves a string and a hash lookup per char. Only valid without prefix/suffix decoration.
  private readonly charIds = new Int32Array(0x10000).fill(-2);
  // Scratch buffers reused by every word (grown on demand) to keep the garbage collector idle.
  private symIds = new Int32Array(256);
  private symStarts = new Int32Array(256);
  private symEnds = new Int32Array(256);
  private symPrev = new Int32Array(256);
  private symNext = new Int32Array(256);
  private readonly heap = new MinHeap();

  private symbolId(word: string, i: number, w: number, n: number): number {
    const { continuingSubwordPrefix: prefix, endOfWordSuffix: suffix } = this.options;
    if (w === 1 && !prefix && !suffix) {
      const c = word.charCodeAt(i);
      let id = this.charIds[c]!;
      if (id === -2) {
        id = this.vocab.get(word[i]!) ?? -1;
        this.charIds[c] = id;
      }
      return id;
    }
    let s = word.slice(i, i + w);
    if (i > 0 && prefix) s = prefix + s;
    if (i + w >= n && suffix) s = s + suffix;
    return this.vocab.get(s) ?? -1;
  }

  private grow(m: number): void {
    if (this.symIds.length >= m) return;
    let cap = this.symIds.length;
    while (cap < m) cap *= 2;
    this.symIds = new Int32Array(cap);
    this.symStarts = new Int32Array(cap);
    this.symEnds = new Int32Array(cap);
    this.symPrev = new Int32Array(cap);
    this.symNext = new Int32Array(cap);
  }

  private mergeWord(word: string, dropout: MergeDropout | null = null): WordTokens {
    const { continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, fuseUnk } = this.options;
    const n = word.length;
    // Byte fallback can give up to 4 symbols per char.
    this.grow(this.byteIds ? 4 * n + 1 : n + 1);
    const ids = this.symIds;
    const starts = this.symStarts;
    const ends = this.symEnds;
    let m = 0;
    let unkStart = -1;
    let unkEnd = -1;
    const flushUnk = (): void => {
      if (unkStart >= 0) { ids[m] = this.unkId!; starts[m] = unkStart; ends[m] = unkEnd; m++; unkStart = -1; }
    };
    for (let i = 0; i < n; ) {
      const c = word.charCodeAt(i);
      const w = c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
      const id = this.symbolId(word, i, w, n);
      if (id >= 0) {
        if (unkStart >= 0) flushUnk();
        ids[m] = id; starts[m] = i; ends[m] = i + w; m++;
      } else {
        let handled = false;
        if (this.byteIds) {
          let s = word.slice(i, i + w);
          if (i > 0 && prefix) s = prefix + s;
          if (i + w >= n && suffix) s = s + suffix;
          const bytes = utf8.encode(s);
          let ok = true;
          for (const b of bytes) if (this.byteIds[b]! < 0) { ok = false; break; }
          if (ok) {
            // Rust gives each byte token one byte of the char; mapped back to the original
            // text, each covers the whole char.
            for (const b of bytes) { ids[m] = this.byteIds[b]!; starts[m] = i; ends[m] = i + w; m++; }
            handled = true;
          }
        }
        if (!handled && this.unkId !== undefined) {
          if (unkStart >= 0 && fuseUnk) unkEnd = i + w;
          else { flushUnk(); unkStart = i; unkEnd = i + w; }
        } else if (!handled && this.options.unkToken !== null) {
          throw new Error(`bpe: unk_token ${JSON.stringify(this.options.unkToken)} is not in model.vocab; add it to the vocabulary`);
        }
      }
      i += w;
    }
    flushUnk();
    return this.applyMerges(m, dropout);
  }

  // Merges the m symbols in the scratch buffers by rank, leftmost first (Rust `Word::merge_all`).
  private applyMerges(m: number, dropout: MergeDropout | null): WordTokens {
    const ids = this.symIds;
    const ends = this.symEnds;
    const starts = this.symStarts;
    const prev = this.symPrev;
    const next = this.symNext;
    for (let i = 0; i < m; i++) { prev[i] = i - 1; next[i] = i + 1 < m ? i + 1 : -1; }
    const heap = this.heap;
    heap.clear();
    const merges = this.merges;
    for (let i = 0; i + 1 < m; i++) {
      const v = merges.find(ids[i]!, ids[i + 1]!);
      if (v >= 0) heap.push(merges.rank(v) * POS + i, merges.mergedId(v));
    }
    // Dropout (Rust `merge_all`): a popped candidate is set aside with probability `rate`; the
    // set-aside ones go back into the queue as soon as some merge is taken.
    const skippedKeys: number[] = [];
    const skippedIds: number[] = [];
    while (heap.size > 0) {
      const key = heap.topKey();
      const newId = heap.topValue();
      heap.pop();
      if (dropout) {
        if (dropout.random() < dropout.rate) {
          skippedKeys.push(key);
          skippedIds.push(newId);
          continue;
        }
        for (let k = 0; k < skippedKeys.length; k++) heap.push(skippedKeys[k]!, skippedIds[k]!);
        skippedKeys.length = 0;
        skippedIds.length = 0;
      }
      const pos = key % POS;
      // A merged-away symbol has its start set to -1.
      if (starts[pos]! < 0) continue;
      const nx = next[pos]!;
      if (nx < 0) continue;
      const cur = merges.find(ids[pos]!, ids[nx]!);
      if (cur < 0 || merges.mergedId(cur) !== newId) continue;
      ids[pos] = newId;
      ends[pos] = ends[nx]!;
      starts[nx] = -1;
      const nn = next[nx]!;
      next[pos] = nn;
      if (nn >= 0) prev[nn] = pos;
      const pv = prev[pos]!;
      if (pv >= 0) {
        const v = merges.find(ids[pv]!, newId);
        if (v >= 0) heap.push(merges.rank(v) * POS + pv, merges.mergedId(v));
      }
      if (nn >= 0) {
        const v = merges.find(newId, ids[nn]!);
        if (v >= 0) heap.push(merges.rank(v) * POS + pos, merges.mergedId(v));
      }
    }
    const outIds: number[] = [];
    const offsets: number[] = [];
    for (let i = m > 0 ? 0 : -1; i >= 0; i = next[i]!) {
      outIds.push(ids[i]!);
      offsets.push(starts[i]!, ends[i]!);
    }
    return { ids: outIds, offsets };
  }

  /** The merges as [left, right] pairs, in rank order. */
  get mergePairs(): ReadonlyArray<[string, string]> {
    if (this.mergeList) return this.mergeList;
    const raw = this.rawMerges;
    if (Array.isArray(raw)) {
      this.mergeList = (raw as ReadonlyArray<MergeJSON>).map((m): [string, string] => {
        if (typeof m !== 'string') return [m[0], m[1]];
        const sp = m.indexOf(' ');
        return [m.slice(0, sp), m.slice(sp + 1)];
      });
    } else {
      const { chars, bounds, count } = raw as PackedMerges;
      this.mergeList = Array.from({ length: count }, (_, r): [string, string] => [unitsToString(chars, bounds[4 * r]!, bounds[4 * r + 1]!), unitsToString(chars, bounds[4 * r + 2]!, bounds[4 * r + 3]!)]);
    }
    return this.mergeList;
  }

  /** The tokenizer.json `model` object. */
  toJSON(): Record<string, unknown> {
    const o = this.options;
    const vocab: Record<string, number> = {};
    for (const [t, id] of [...this.vocab.toMap()].sort((a, b) => a[1] - b[1])) vocab[t] = id;
    return {
      type: 'BPE',
      dropout: o.dropout ?? null,
      unk_token: o.unkToken,
      continuing_subword_prefix: o.continuingSubwordPrefix,
      end_of_word_suffix: o.endOfWordSuffix,
      fuse_unk: o.fuseUnk,
      byte_fallback: o.byteFallback,
      ignore_merges: o.ignoreMerges,
      vocab,
      merges: this.mergePairs.map(([a, b]) => [a, b]),
    };
  }
}

/** A binary min-heap of numeric keys with an integer payload each, in reusable typed arrays. */
class MinHeap {
  private keys = new Float64Array(256);
  private values = new Int32Array(256);
  size = 0;
  clear(): void {
    this.size = 0;
  }
  topKey(): number {
    return this.keys[0]!;
  }
  topValue(): number {
    return this.values[0]!;
  }
  push(key: number, value: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
      const v = new Int32Array(this.size * 2);
      v.set(this.values);
      this.values = v;
    }
    const k = this.keys;
    const v = this.values;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! <= key) break;
      k[i] = k[p]!;
      v[i] = v[p]!;
      i = p;
    }
    k[i] = key;
    v[i] = value;
  }
  pop(): void {
    const k = this.keys;
    const v = this.values;
    const n = --this.size;
    if (n === 0) return;
    const lastK = k[n]!;
    const lastV = v[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && k[c + 1]! < k[c]!) c++;
      if (k[c]! >= lastK) break;
      k[i] = k[c]!;
      v[i] = v[c]!;
      i = c;
    }
    k[i] = lastK;
    v[i] = lastV;
  }
}
