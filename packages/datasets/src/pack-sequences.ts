import { IGNORE_INDEX } from './tokenize-chat.js';

/** An example to pack: ids and labels of equal length. */
export interface SequenceExample {
  inputIds: ArrayLike<number>;
  labels: ArrayLike<number>;
}

/** Several examples laid end to end in one sequence. */
export interface PackedSequence {
  inputIds: Int32Array;
  labels: Int32Array;
  /** Position of each token within its own example (restarts at 0). */
  positionIds: Int32Array;
  /** Which packed example (0, 1, ...) each token belongs to. */
  segmentIds: Int32Array;
  /** Cumulative example lengths [0, l0, l0+l1, ...] (flash-attention's cu_seqlens). */
  cuSeqLens: Int32Array;
  /** Index of each packed example in the input. */
  exampleIndexes: number[];
}

/** Options of `packSequences`. */
export interface PackOptions {
  /** Tokens per packed sequence. */
  maxLength: number;
  /** 'first-fit-decreasing' (default; fuller packs) or 'greedy' (keeps input order). */
  strategy?: 'first-fit-decreasing' | 'greedy';
}

/**
 * Packs examples into sequences of at most maxLength tokens. The first label of every example is set
 * to -100: models shift labels left, so that position would train the previous example's last token
 * to predict this example's first, a prediction across the boundary.
 */
export function packSequences(examples: readonly SequenceExample[], options: PackOptions): PackedSequence[] {
  const max = options.maxLength;
  examples.forEach((e, i) => {
    if (e.inputIds.length !== e.labels.length) throw new Error(`packSequences: example ${i} has ${e.inputIds.length} ids but ${e.labels.length} labels; they must be parallel`);
    if (e.inputIds.length > max) throw new Error(`packSequences: example ${i} has ${e.inputIds.length} tokens, more than maxLength ${max}; truncate examples first (tokenizeChat's maxLength) or raise maxLength`);
  });
  const bins: Array<{ items: number[]; used: number }> = [];
  const order = examples.map((_, i) => i).filter((i) => examples[i]!.inputIds.length > 0);
  if ((options.strategy ?? 'first-fit-decreasing') === 'greedy') {
    for (const i of order) {
      const len = examples[i]!.inputIds.length;
      const last = bins[bins.length - 1];
      if (last && last.used + len <= max) {
        last.items.push(i);
        last.used += len;
      } else bins.push({ items: [i], used: len });
    }
  } else {
    order.sort((a, b) => examples[b]!.inputIds.length - examples[a]!.inputIds.length || a - b);
    for (const i of order) {
      const len = examples[i]!.inputIds.length;
      const bin = bins.find((b) => b.used + len <= max);
      if (bin) {
        bin.items.push(i);
        bin.used += len;
      } else bins.push({ items: [i], used: len });
    }
  }
  return bins.map((b) => buildPack(examples, b.items, b.used));
}

function buildPack(examples: readonly SequenceExample[], items: number[], total: number): PackedSequence {
  const p: PackedSequence = {
    inputIds: new Int32Array(total),
    labels: new Int32Array(total),
    positionIds: new Int32Array(total),
    segmentIds: new Int32Array(total),
    cuSeqLens: new Int32Array(items.length + 1),
    exampleIndexes: items,
  };
  let at = 0;
  items.forEach((idx, seg) => {
    const e = examples[idx]!;
    for (let k = 0; k < e.inputIds.length; k++) {
      p.inputIds[at + k] = e.inputIds[k]!;
      p.labels[at + k] = k === 0 ? IGNORE_INDEX : e.labels[k]!;
      p.positionIds[at + k] = k;
      p.segmentIds[at + k] = seg;
    }
    at += e.inputIds.length;
    p.cuSeqLens[seg + 1] = at;
  });
  return p;
}

/** Splits a packed sequence back into its examples (their first labels read -100). */
export function unpackSequence(pack: PackedSequence): Array<{ inputIds: number[]; labels: number[] }> {
  const out: Array<{ inputIds: number[]; labels: number[] }> = [];
  for (let s = 0; s + 1 < pack.cuSeqLens.length; s++) {
    const a = pack.cuSeqLens[s]!;
    const b = pack.cuSeqLens[s + 1]!;
    out.push({ inputIds: [...pack.inputIds.subarray(a, b)], labels: [...pack.labels.subarray(a, b)] });
  }
  return out;
}

/**
 * The (T × T, row-major) attention mask of a packed sequence: 1 where query i may attend to key j,
 * i.e. same example and, when causal (default), j ≤ i. Padding positions (segment -1) attend to nothing.
 */
export function packedAttentionMask(segmentIds: ArrayLike<number>, options: { causal?: boolean; length?: number } = {}): Uint8Array {
  const t = options.length ?? segmentIds.length;
  const causal = options.causal ?? true;
  const mask = new Uint8Array(t * t);
  for (let i = 0; i < t; i++) {
    const si = i < segmentIds.length ? segmentIds[i]! : -1;
    if (si < 0) continue;
    for (let j = 0; j <= (causal ? i : t - 1); j++) if (j < segmentIds.length && segmentIds[j] === si) mask[i * t + j] = 1;
  }
  return mask;
}
