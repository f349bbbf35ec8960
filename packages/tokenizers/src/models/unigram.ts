import type { Model, WordTokens } from './model.js';

// Score given to an unknown char below the lowest vocabulary score (SentencePiece's kUnkPenalty).
const UNK_PENALTY = 10;

/** A Unigram language model tokenizer decoded with Viterbi (T5, ALBERT, XLNet). */
export class Unigram implements Model {
  private readonly ids = new Map<string, number>();
  private readonly minScore: number;
  private readonly maxPieceLength: number;

  constructor(readonly pieces: Array<[string, number]>, readonly unkId: number | null, readonly byteFallback: boolean, readonly fuseUnk = true) {
    let min = Infinity;
    let maxLen = 0;
    pieces.forEach(([p, score], i) => {
      if (!this.ids.has(p)) this.ids.set(p, i);
      if (score < min) min = score;
      if (p.length > maxLen) maxLen = p.length;
    });
    if (unkId !== null && (unkId < 0 || unkId >= pieces.length)) throw new Error(`model.unk_id: ${unkId} is outside the vocabulary (size ${pieces.length}); use the index of the unknown piece`);
    this.minScore = min === Infinity ? 0 : min;
    this.maxPieceLength = maxLen;
  }

  /** Number of vocabulary entries. */
  get vocabSize(): number {
    return this.pieces.length;
  }

  /** Id of a vocabulary piece. */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** Vocabulary piece of an id. */
  idToToken(id: number): string | undefined {
    return this.pieces[id]?.[0];
  }

  /** A copy of the vocabulary. */
  getVocab(): Map<string, number> {
    return new Map(this.ids);
  }

  // Words repeat: like Rust's Unigram, keep recent results (short words only; cleared when full).
  private readonly cache = new Map<string, WordTokens>();

  /** The best segmentation of one word, by total piece score. */
  tokenize(word: string): WordTokens {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const result = this.viterbi(word);
    if (word.length <= 256) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(word, result);
    }
    return result;
  }

  private viterbi(word: string): WordTokens {
    const n = word.length;
    if (n === 0) return { ids: [], offsets: [] };
    const score = new Float64Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const nodeId = new Int32Array(n + 1);
    const unkScore = this.minScore - UNK_PENALTY;
    for (let s = 0; s < n; ) {
      const base = score[s]!;
      const c = word.charCodeAt(s);
      const w = c >= 0xd800 && c <= 0xdbff && s + 1 < n ? 2 : 1;
      let single = false;
      const maxEnd = Math.min(n, s + this.maxPieceLength);
      for (let e = s + 1; e <= maxEnd; e++) {
        const id = this.ids.get(word.slice(s, e));
        if (id === undefined) continue;
        const cand = this.pieces[id]![1] + base;
        if (from[e]! < 0 || cand > score[e]!) { score[e] = cand; from[e] = s; nodeId[e] = id; }
        if (e - s === w) single = true;
      }
      if (!single) {
        if (this.unkId === null) throw new Error(`unigram: no piece covers ${JSON.stringify(word.slice(s, s + w))} and model.unk_id is null; set unk_id`);
        const e = s + w;
        const cand = unkScore + base;
        if (from[e]! < 0 || cand > score[e]!) { score[e] = cand; from[e] = s; nodeId[e] = this.unkId; }
      }
      s += w;
    }
    const spans: Array<[number, number]> = [];
    let pendingUnkEnd = -1;
    let pendingUnkStart = -1;
    for (let e = n; e > 0; ) {
      const s = from[e]!;
      if (this.fuseUnk && this.unkId !== null && nodeId[e] === this.unkId) {
        if (pendingUnkEnd < 0) pendingUnkEnd = e;
        pendingUnkStart = s;
      } else {
        if (pendingUnkEnd >= 0) { spans.push([pendingUnkStart, pendingUnkEnd]); pendingUnkEnd = -1; }
        spans.push([s, e]);
      }
      e = s;
    }
    if (pendingUnkEnd >= 0) spans.push([pendingUnkStart, pendingUnkEnd]);
    spans.reverse();
    const ids: number[] = [];
    const offsets: number[] = [];
    // Rust keeps the text of an unknown piece as its token string.
    const values: Array<string | undefined> = [];
    let anyValue = false;
    for (const [s, e] of spans) {
      const piece = word.slice(s, e);
      const id = this.ids.get(piece);
      if (id !== undefined) { ids.push(id); offsets.push(s, e); values.push(undefined); continue; }
      if (this.byteFallback) {
        const bytes = new TextEncoder().encode(piece);
        const byteIds = [...bytes].map((b) => this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (byteIds.every((x) => x !== undefined)) {
          for (const b of byteIds) { ids.push(b!); offsets.push(s, e); values.push(undefined); }
          continue;
        }
      }
      ids.push(this.unkId!);
      offsets.push(s, e);
      values.push(piece);
      anyValue = true;
    }
    return anyValue ? { ids, offsets, values } : { ids, offsets };
  }

  /** The tokenizer.json `model` object. */
  toJSON(): Record<string, unknown> {
    return { type: 'Unigram', unk_id: this.unkId, vocab: this.pieces.map(([p, s]) => [p, s]), byte_fallback: this.byteFallback };
  }
}
