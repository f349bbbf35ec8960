// Fused attention forward (composites attention and attentionForward of @tessera/tensor): per
// (batch, head, query row), one row of masked scores, its max and exp-sum, then the weighted sum of
// value rows; attentionForward also writes lse = max + log(sum) in an extra last column. Double
// precision, rounded once on store. A row whose keys are all masked is NaN (lse too), as the
// decomposition's softmax and logsumexp give it.
import type { TensorView, TypedArray } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { attentionDims, checkNoDropout, denseOperands, MaskReader, scoreRow, visibleKeys, type FusedAttentionAttrs } from './attention-rows.js';

/** Runs attention into a (B, H, T, Dv + extra) array; with extra 1 the last column holds lse. */
function attentionRows(op: string, inputs: readonly TensorView[], attrs: FusedAttentionAttrs, dtype: TensorView['dtype'], extra: 0 | 1): TypedArray {
  checkNoDropout(op, attrs);
  const [qv, kv, vv, maskView] = inputs as [TensorView, TensorView, TensorView, TensorView | undefined];
  const dims = attentionDims(op, qv, kv, vv);
  const { b: B, h: H, hkv: Hkv, t: T, s: S, d: D, dv: Dv, group } = dims;
  const width = Dv + extra;
  const dst = resultArray(dtype, B * H * T * width);
  if (dst.length === 0) return dst;
  const { q, k, v } = denseOperands(inputs, false);
  const mask = attrs.hasMask ? new MaskReader(maskView!, dims) : null;
  const row = new Float64Array(S);
  const acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvHead = b * Hkv + Math.floor(h / group);
      const kAt = k.offset + kvHead * S * D;
      const vAt = v.offset + kvHead * S * Dv;
      for (let i = 0; i < T; i++) {
        const qAt = q.offset + ((b * H + h) * T + i) * D;
        const oAt = ((b * H + h) * T + i) * width;
        const end = visibleKeys(attrs.causal, i, dims);
        const m = scoreRow(row, q.data, qAt, k.data, kAt, D, end, attrs.scale, mask, mask ? mask.rowOffset(b, h, i) : 0);
        if (!(m > -Infinity) || m === Infinity) {
          // Every key masked (or a NaN/inf score): exp(s - max) is NaN throughout, as in the decomposition.
          for (let e = 0; e < width; e++) dst[oAt + e] = NaN;
          continue;
        }
        acc.fill(0);
        let sum = 0;
        for (let j = 0; j < end; j++) {
          const p = Math.exp(row[j]! - m);
          if (p === 0) continue;
          sum += p;
          const vj = vAt + j * Dv;
          for (let e = 0; e < Dv; e++) acc[e] += p * v.data[vj + e]!;
        }
        const inv = 1 / sum;
        for (let e = 0; e < Dv; e++) dst[oAt + e] = acc[e]! * inv;
        if (extra) dst[oAt + Dv] = m + Math.log(sum);
      }
    }
  }
  return dst;
}

/** softmax(q kᵀ · scale + mask) v: (B, H, T, Dv). */
export const attentionKernel: CpuKernel<FusedAttentionAttrs> = (inputs, attrs, out) => attentionRows('attention', inputs, attrs, out.dtype, 0);

/** attention's output with the log-sum-exp of each query's scores as an extra last column: (B, H, T, Dv + 1). */
export const attentionForwardKernel: CpuKernel<FusedAttentionAttrs> = (inputs, attrs, out) =>
  attentionRows('attentionForward', inputs, attrs, out.dtype, 1);
