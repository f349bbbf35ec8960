import { NormalizedString } from './normalized-string.js';
import { BYTE_TO_CHAR } from './pre-tokenizers/byte-level.js';
import { preTokenizerFromJSON } from './pre-tokenizers/pre-tokenizer-from-json.js';
import { Tokenizer, type TokenizerJSON } from './tokenizer.js';
import { wellFormed } from './well-formed.js';

/** Options of `trainBpe`. */
export interface TrainBpeOptions {
  /** Target vocabulary size, special tokens and the initial alphabet included. */
  vocabSize: number;
  /** Pairs seen fewer times than this are never merged. Default 2. */
  minFrequency?: number;
  /** Special tokens, given ids 0, 1, ... in this order. */
  specialTokens?: string[];
  /** GPT-2 style byte-level BPE (default true); false gives SentencePiece-style BPE with ▁ and an unknown token. */
  byteLevel?: boolean;
  /** Unknown token for `byteLevel: false` (default "<unk>", added to the special tokens if missing). */
  unkToken?: string;
}

interface Candidate {
  count: number;
  a: number;
  b: number;
}

// Max count first; on ties the smaller (a, b) pair, as the Rust BpeTrainer orders its queue.
function better(x: Candidate, y: Candidate): boolean {
  if (x.count !== y.count) return x.count > y.count;
  if (x.a !== y.a) return x.a < y.a;
  return x.b < y.b;
}

class CandidateHeap {
  private items: Candidate[] = [];
  get size(): number {
    return this.items.length;
  }
  push(c: Candidate): void {
    const h = this.items;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Candidate | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && better(h[l]!, h[m]!)) m = l;
        if (r < h.length && better(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const PAIR = 2 ** 21;

/** Learns a BPE vocabulary and merges from texts; the result saves as a tokenizer.json the Rust library loads. */
export function trainBpe(texts: Iterable<string>, options: TrainBpeOptions): Tokenizer {
  const byteLevel = options.byteLevel ?? true;
  const minFrequency = options.minFrequency ?? 2;
  const specials = [...(options.specialTokens ?? [])];
  const unkToken = byteLevel ? null : (options.unkToken ?? '<unk>');
  if (unkToken !== null && !specials.includes(unkToken)) specials.push(unkToken);
  if (!Number.isInteger(options.vocabSize) || options.vocabSize <= 0) throw new Error(`trainBpe: vocabSize must be a positive integer, got ${options.vocabSize}`);
  if (new Set(specials).size !== specials.length) throw new Error(`trainBpe: specialTokens has duplicates (${JSON.stringify(specials)}); list each once`);

  const preTokenizerJson = byteLevel
    ? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }
    : { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  const preTokenizer = preTokenizerFromJSON(preTokenizerJson)!;

  // 1. Count words (pre-tokenized pieces).
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    // Lone surrogates become U+FFFD, as encode does; a vocabulary must be valid UTF-8 to be saved.
    for (const w of preTokenizer.split(new NormalizedString(wellFormed(text)))) wordCounts.set(w.normalized, (wordCounts.get(w.normalized) ?? 0) + 1);
  }

  // 2. Vocabulary: special tokens, then the alphabet in code point order.
  const vocab = new Map<string, number>();
  const tokens: string[] = [];
  const add = (t: string): number => {
    let id = vocab.get(t);
    if (id === undefined) {
      id = tokens.length;
      vocab.set(t, id);
      tokens.push(t);
    }
    return id;
  };
  for (const s of specials) add(s);
  const alphabet = new Set<string>(byteLevel ? BYTE_TO_CHAR : []);
  for (const w of wordCounts.keys()) for (const c of w) alphabet.add(c);
  for (const c of [...alphabet].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!)) add(c);
  if (tokens.length > options.vocabSize) throw new Error(`trainBpe: vocabSize ${options.vocabSize} is below the ${tokens.length} special tokens and alphabet chars; raise it`);

  // 3. Words as symbol-id arrays, pair counts and where each pair occurs.
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of [...wordCounts].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
    words.push([...w].map((ch) => vocab.get(ch)!));
    counts.push(c);
  }
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const bump = (a: number, b: number, wi: number, delta: number): void => {
    const k = a * PAIR + b;
    pairCount.set(k, (pairCount.get(k) ?? 0) + delta);
    if (delta > 0) {
      let s = where.get(k);
      if (!s) where.set(k, (s = new Set()));
      s.add(wi);
    }
  };
  words.forEach((w, wi) => {
    for (let i = 0; i + 1 < w.length; i++) bump(w[i]!, w[i + 1]!, wi, counts[wi]!);
  });
  const heap = new CandidateHeap();
  for (const [k, c] of pairCount) heap.push({ count: c, a: Math.floor(k / PAIR), b: k % PAIR });

  // 4. Merge the best pair until the vocabulary is full.
  const merges: Array<[string, string]> = [];
  while (tokens.length < options.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const key = top.a * PAIR + top.b;
    const current = pairCount.get(key) ?? 0;
    if (current !== top.count) {
      // Stale entry: requeue with the live count.
      if (current > 0) heap.push({ count: current, a: top.a, b: top.b });
      continue;
    }
    if (top.count < minFrequency || top.count <= 0) break;
    const merged = tokens[top.a]! + tokens[top.b]!;
    const newId = add(merged);
    merges.push([tokens[top.a]!, tokens[top.b]!]);
    const touched = new Set<number>();
    for (const wi of where.get(key) ?? []) {
      const w = words[wi]!;
      const c = counts[wi]!;
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] !== top.a || w[i + 1] !== top.b) continue;
        if (i > 0) { bump(w[i - 1]!, top.a, wi, -c); bump(w[i - 1]!, newId, wi, c); touched.add(w[i - 1]! * PAIR + newId); touched.add(w[i - 1]! * PAIR + top.a); }
        if (i + 2 < w.length) { bump(top.b, w[i + 2]!, wi, -c); bump(newId, w[i + 2]!, wi, c); touched.add(newId * PAIR + w[i + 2]!); touched.add(top.b * PAIR + w[i + 2]!); }
        w.splice(i, 2, newId);
      }
    }
    pairCount.delete(key);
    where.delete(key);
    for (const k of touched) {
      const c = pairCount.get(k) ?? 0;
      if (c > 0) heap.push({ count: c, a: Math.floor(k / PAIR), b: k % PAIR });
    }
  }

  const vocabJson: Record<string, number> = {};
  tokens.forEach((t, i) => (vocabJson[t] = i));
  const json: TokenizerJSON = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: preTokenizerJson,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: unkToken,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: vocabJson,
      merges,
    },
    post_processor: byteLevel ? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false } : null,
    decoder: byteLevel ? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } : { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  };
  return Tokenizer.fromJSON(json);
}
