import { SeededRandom } from './seeded-random.js';

/** Anything with a token length. */
export interface HasLength {
  inputIds: ArrayLike<number>;
}

/** Options of `bucketByLength`. */
export interface BucketOptions {
  batchSize: number;
  /** Shuffle seed; null keeps input order (sorted within windows). */
  seed: number | null;
  /** Examples sorted together: batchSize × this many (default 50), so batches hold similar lengths without losing randomness. */
  windowBatches?: number;
}

/** Groups example indexes into batches of similar length (sorted within random windows, then the batches shuffled), to cut padding. */
export function bucketByLength(examples: readonly HasLength[], options: BucketOptions): number[][] {
  if (!(options.batchSize >= 1)) throw new Error(`bucketByLength: batchSize ${options.batchSize} must be ≥ 1`);
  const rng = options.seed === null ? null : new SeededRandom(options.seed);
  const idx = examples.map((_, i) => i);
  if (rng) rng.shuffle(idx);
  const window = options.batchSize * (options.windowBatches ?? 50);
  const batches: number[][] = [];
  for (let w = 0; w < idx.length; w += window) {
    const part = idx.slice(w, w + window).sort((a, b) => examples[a]!.inputIds.length - examples[b]!.inputIds.length || a - b);
    for (let k = 0; k < part.length; k += options.batchSize) batches.push(part.slice(k, k + options.batchSize));
  }
  return rng ? rng.shuffle(batches) : batches;
}

/** Options of `batchByTokens`. */
export interface TokenBatchOptions {
  /** Budget of padded tokens per batch: batch size × longest example ≤ maxTokens. */
  maxTokens: number;
  /** Sort by length first so batches pad less (default true). */
  sortByLength?: boolean;
  /** Also cap the number of examples per batch. */
  maxBatchSize?: number;
}

/** Groups example indexes into batches whose padded size (count × longest) stays within a token budget. */
export function batchByTokens(examples: readonly HasLength[], options: TokenBatchOptions): number[][] {
  const idx = examples.map((_, i) => i);
  if (options.sortByLength ?? true) idx.sort((a, b) => examples[a]!.inputIds.length - examples[b]!.inputIds.length || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  for (const i of idx) {
    const len = examples[i]!.inputIds.length;
    if (len > options.maxTokens) throw new Error(`batchByTokens: example ${i} has ${len} tokens, more than maxTokens ${options.maxTokens}; truncate it or raise maxTokens`);
    const l = Math.max(longest, len);
    if (cur.length > 0 && (l * (cur.length + 1) > options.maxTokens || cur.length === options.maxBatchSize)) {
      batches.push(cur);
      cur = [];
      longest = 0;
    }
    cur.push(i);
    longest = Math.max(longest, len);
  }
  if (cur.length) batches.push(cur);
  return batches;
}
