import { packedAttentionMask } from './pack-sequences.js';
import { IGNORE_INDEX } from './tokenize-chat.js';

/** A padded batch as flat row-major typed arrays, ready to become tensors of `shape`. */
export interface PaddedBatch {
  /** [batch, length] */
  shape: [number, number];
  inputIds: Int32Array;
  labels: Int32Array;
  /** 1 on real tokens, 0 on padding ([batch, length]); for packed batches see `attentionMask4d`. */
  attentionMask: Uint8Array;
  positionIds: Int32Array;
  /** For packed batches: [batch, length, length] block-diagonal causal mask. */
  attentionMask4d?: Uint8Array;
}

/** Options of `padCollate`. */
export interface PadCollateOptions {
  padId: number;
  /** Value of padded labels; default -100. */
  labelPadId?: number;
  paddingSide?: 'right' | 'left';
  /** Pad to this length instead of the longest in the batch. */
  padToLength?: number;
  /** Round the padded length up to a multiple of this (tensor cores like multiples of 8). */
  padToMultipleOf?: number;
}

interface Row {
  inputIds: ArrayLike<number>;
  labels?: ArrayLike<number>;
  positionIds?: ArrayLike<number>;
  segmentIds?: ArrayLike<number>;
}

/** Pads examples (tokenised or packed: packSequences' output) into one batch; packed rows also get a block-diagonal causal mask (`attentionMask4d`). */
export function padCollate(rows: readonly Row[], options: PadCollateOptions): PaddedBatch {
  if (rows.length === 0) throw new Error('padCollate: empty batch; pass at least one example');
  const longest = Math.max(...rows.map((r) => r.inputIds.length));
  let t = options.padToLength ?? longest;
  if (t < longest) throw new Error(`padCollate: padToLength ${t} is shorter than the longest example (${longest}); truncate first or raise it`);
  const m = options.padToMultipleOf;
  if (m && t % m !== 0) t += m - (t % m);
  const b = rows.length;
  const labelPad = options.labelPadId ?? IGNORE_INDEX;
  const inputIds = new Int32Array(b * t).fill(options.padId);
  const labels = new Int32Array(b * t).fill(labelPad);
  const attentionMask = new Uint8Array(b * t);
  const positionIds = new Int32Array(b * t);
  const packed = rows.some((r) => r.segmentIds);
  const segments = packed ? new Int32Array(b * t).fill(-1) : null;
  rows.forEach((r, i) => {
    const n = r.inputIds.length;
    const off = i * t + (options.paddingSide === 'left' ? t - n : 0);
    for (let k = 0; k < n; k++) {
      inputIds[off + k] = r.inputIds[k]!;
      labels[off + k] = r.labels ? r.labels[k]! : r.inputIds[k]!;
      attentionMask[off + k] = 1;
      positionIds[off + k] = r.positionIds ? r.positionIds[k]! : k;
      if (segments) segments[off + k] = r.segmentIds ? r.segmentIds[k]! : 0;
    }
  });
  const batch: PaddedBatch = { shape: [b, t], inputIds, labels, attentionMask, positionIds };
  if (segments) {
    const m4 = new Uint8Array(b * t * t);
    // Each row's padded segment ids (-1 on padding) give its block-diagonal causal mask.
    for (let i = 0; i < b; i++) m4.set(packedAttentionMask(segments.subarray(i * t, (i + 1) * t)), i * t * t);
    batch.attentionMask4d = m4;
  }
  return batch;
}
