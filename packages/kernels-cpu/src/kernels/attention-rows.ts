// What the fused attention kernels share: dense row-major operands (a strided q, k, v or dO is copied
// once, which costs O(T·D) against the O(T·S·D) of attention), the grouped-query head map, the causal
// range of keys a query sees, and one query row of masked scaled scores at a time, so no (T, S)
// matrix is ever formed.
import { allocTyped, fmtShape, numel, type TensorView, type TypedArray } from '@tessera/tensor';
import type { AttentionAttrs } from '@tessera/tensor';
import { dataOf } from '../cpu-kernel.js';
import { broadcastStrides, denseStrides, isDenseRowMajor } from '../strided.js';
import { copyStrided } from './copy.js';

/** A view's elements as a dense row-major array plus the offset of element 0 in it. */
export interface DenseOperand {
  readonly data: TypedArray;
  readonly offset: number;
}

/** `view` read in place when it is dense row-major, else copied once. */
export function denseOperand(view: TensorView): DenseOperand {
  if (isDenseRowMajor(view)) return { data: dataOf(view), offset: view.offset };
  const data = allocTyped(view.dtype, numel(view.shape));
  copyStrided(view, data, denseStrides(view.shape), 0);
  return { data, offset: 0 };
}

/** Sizes of an attention problem: q (B, H, T, D), k (B, Hkv, S, D), v (B, Hkv, S, Dv). */
export interface AttentionDims {
  readonly b: number;
  readonly h: number;
  readonly hkv: number;
  readonly t: number;
  readonly s: number;
  readonly d: number;
  readonly dv: number;
  /** Query heads per key/value head: query head h reads kv head floor(h / group), as repeatHeads lays them out. */
  readonly group: number;
}

/** The dims of q, k, v; refuses shapes the kernels cannot index. */
export function attentionDims(op: string, q: TensorView, k: TensorView, v: TensorView): AttentionDims {
  const [b, h, t, d] = q.shape as [number, number, number, number];
  const [, hkv, s] = k.shape as [number, number, number, number];
  const dv = v.shape[3]!;
  if (q.shape.length !== 4 || k.shape.length !== 4 || v.shape.length !== 4 || hkv === 0 || h % hkv !== 0 || k.shape[3] !== d) {
    throw new RangeError(`${op}: expected q (B,H,T,D), k (B,Hkv,S,D), v (B,Hkv,S,Dv) with H a multiple of Hkv; got q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  }
  return { b, h, hkv, t, s, d, dv, group: h / hkv };
}

/** Keys 0 .. end-1 are visible to query i: all of them, or j <= i + S - T when causal (bottom-right aligned). */
export function visibleKeys(causal: boolean, i: number, { t, s }: AttentionDims): number {
  return causal ? Math.max(0, Math.min(s, i + s - t + 1)) : s;
}

/** Reads the (B, H, T, S)-broadcast mask: bool (true = attend) or additive float. */
export class MaskReader {
  private readonly data: TypedArray;
  private readonly strides: number[];
  private readonly start: number;
  readonly isBool: boolean;

  constructor(mask: TensorView, dims: AttentionDims) {
    this.data = dataOf(mask);
    this.strides = broadcastStrides(mask, [dims.b, dims.h, dims.t, dims.s]);
    this.start = mask.offset;
    this.isBool = mask.dtype === 'bool';
  }

  /** Offset of mask element (b, h, i, 0); `step` moves along keys. */
  rowOffset(b: number, h: number, i: number): number {
    return this.start + b * this.strides[0]! + h * this.strides[1]! + i * this.strides[2]!;
  }

  /** Stride along keys. */
  get step(): number {
    return this.strides[3]!;
  }

  /** Stride along query rows. */
  get rowStep(): number {
    return this.strides[2]!;
  }

  /** The score after masking. */
  apply(score: number, at: number): number {
    const m = this.data[at]!;
    return this.isBool ? (m !== 0 ? score : -Infinity) : score + m;
  }
}

/** Writes scale · q_i · k_j (masked) into row[j] for j < end and returns their max (NaN if any is NaN). */
export function scoreRow(
  row: Float64Array,
  q: TypedArray,
  qAt: number,
  k: TypedArray,
  kAt: number,
  d: number,
  end: number,
  scale: number,
  mask: MaskReader | null,
  maskAt: number,
): number {
  let max = -Infinity;
  for (let j = 0, kj = kAt, mj = maskAt; j < end; j++, kj += d) {
    let dot = 0;
    for (let e = 0; e < d; e++) dot += q[qAt + e]! * k[kj + e]!;
    let sc = dot * scale;
    if (mask) {
      sc = mask.apply(sc, mj);
      mj += mask.step;
    }
    row[j] = sc;
    if (sc > max || sc !== sc) max = sc;
  }
  return max;
}

/** Dense q, k, v and (for the gradient ops, inputs[3]) dO; without dO, `dO` is q. */
export interface AttentionOperands {
  readonly q: DenseOperand;
  readonly k: DenseOperand;
  readonly v: DenseOperand;
  readonly dO: DenseOperand;
}

/** The attention inputs q, k, v (and dO) as dense operands. */
export function denseOperands(inputs: readonly TensorView[], withGrad: boolean): AttentionOperands {
  const q = denseOperand(inputs[0]!);
  return { q, k: denseOperand(inputs[1]!), v: denseOperand(inputs[2]!), dO: withGrad ? denseOperand(inputs[3]!) : q };
}

/** A (B, H, T) row statistic the gradient ops take (lse, delta), read through its strides (lse is a column view). */
export class RowStat {
  private readonly data: TypedArray;
  private readonly offset: number;
  private readonly s0: number;
  private readonly s1: number;
  private readonly s2: number;

  /**
   * The statistic is stored in f32 (an f32 forward's lse column): a score recomputed in double must be
   * rounded to f32 before exp(s - lse), as the forward's own scores were when its lse was stored. At
   * |s| beyond ~1e6 the double score and the f32 lse differ by more than exp resolves (at 1e30, by
   * ~1e22: P = Infinity for the one visible key of a causal row, whose P is 1).
   */
  readonly f32: boolean;

  constructor(view: TensorView) {
    this.data = dataOf(view);
    this.f32 = this.data instanceof Float32Array;
    this.offset = view.offset;
    [this.s0, this.s1, this.s2] = view.strides as [number, number, number];
  }

  /** The value of query row i of head h in batch b. */
  at(b: number, h: number, i: number): number {
    return this.data[this.offset + b * this.s0 + h * this.s1 + i * this.s2]!;
  }
}

/** Attributes the attention kernels read; dropout never reaches them (the ops' fusedWhen declines it). */
export type FusedAttentionAttrs = Pick<AttentionAttrs, 'causal' | 'scale' | 'hasMask' | 'dropoutP'>;

/** Refuses dropout, which only the decomposition draws. */
export function checkNoDropout(op: string, attrs: FusedAttentionAttrs): void {
  if (attrs.dropoutP !== 0) throw new Error(`${op}: the fused CPU kernel has no dropout (dropoutP ${attrs.dropoutP}); the op's fusedWhen should have sent this to the decomposition`);
}
