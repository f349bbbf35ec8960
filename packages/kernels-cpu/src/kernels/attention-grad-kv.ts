// Fused attentionGradKV (composite of @tessera/tensor): per (batch, kv head, key j), a pass over the
// query rows of every query head in its group that see key j: s_ij recomputed, P = exp(s - lse),
// dP = dO_i · v_j, dS = P (dP - delta_i); dK_j = scale Σ dS q_i and dV_j = Σ P dO_i accumulate in
// double precision, summed over the group (GQA) without a repeated-heads copy. Output (2, B, Hkv, S, D).
import type { TensorView } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { attentionDims, checkNoDropout, denseOperands, MaskReader, RowStat, type FusedAttentionAttrs } from './attention-rows.js';

/** [dK, dV] stacked on a leading dim of 2, from q, k, v, dO, lse, delta and the optional mask. */
export const attentionGradKVKernel: CpuKernel<FusedAttentionAttrs> = (inputs, attrs, out) => {
  checkNoDropout('attentionGradKV', attrs);
  const [qv, kv, vv, , lsev, deltav, maskView] = inputs as TensorView[];
  const dims = attentionDims('attentionGradKV', qv!, kv!, vv!);
  const { b: B, h: H, hkv: Hkv, t: T, s: S, d: D, dv: Dv, group } = dims;
  if (Dv !== D) throw new RangeError(`attentionGradKV: dK and dV are stacked, so v's head dim ${Dv} must equal k's ${D}`);
  const half = B * Hkv * S * D;
  const dst = resultArray(out.dtype, 2 * half);
  if (dst.length === 0) return dst;
  const { q, k, v, dO } = denseOperands(inputs, true);
  const lse = new RowStat(lsev!);
  const delta = new RowStat(deltav!);
  const mask = attrs.hasMask ? new MaskReader(maskView!, dims) : null;
  const { scale, causal } = attrs;
  const dk = new Float64Array(D);
  const dv = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < Hkv; g++) {
      const kvHead = b * Hkv + g;
      for (let j = 0; j < S; j++) {
        const kj = k.offset + (kvHead * S + j) * D;
        const vj = v.offset + (kvHead * S + j) * D;
        // Query i sees key j when j <= i + S - T (causal): i from j - S + T on.
        const first = causal ? Math.max(0, j - S + T) : 0;
        dk.fill(0);
        dv.fill(0);
        for (let h = g * group; h < (g + 1) * group; h++) {
          const mAt = mask ? mask.rowOffset(b, h, 0) + j * mask.step : 0;
          const mRow = mask ? mask.rowStep : 0;
          for (let i = 0; i < T; i++) {
            const l = lse.at(b, h, i);
            const hidden = i < first;
            // A hidden pair has P = exp(-inf - lse) = 0, unless lse is -inf or NaN (every key of row i masked): then NaN.
            if (hidden && l > -Infinity) continue;
            const qi = q.offset + ((b * H + h) * T + i) * D;
            const gi = dO.offset + ((b * H + h) * T + i) * D;
            let s = -Infinity;
            if (!hidden) {
              let dot = 0;
              for (let e = 0; e < D; e++) dot += q.data[qi + e]! * k.data[kj + e]!;
              s = dot * scale;
              if (mask) s = mask.apply(s, mAt + i * mRow);
            }
            const p = Math.exp((lse.f32 ? Math.fround(s) : s) - l);
            if (p === 0) continue;
            let dp = 0;
            for (let e = 0; e < D; e++) dp += dO.data[gi + e]! * v.data[vj + e]!;
            const ds = p * (dp - delta.at(b, h, i)) * scale;
            for (let e = 0; e < D; e++) {
              dk[e] += ds * q.data[qi + e]!;
              dv[e] += p * dO.data[gi + e]!;
            }
          }
        }
        const at = (kvHead * S + j) * D;
        for (let e = 0; e < D; e++) {
          dst[at + e] = dk[e]!;
          dst[half + at + e] = dv[e]!;
        }
      }
    }
  }
  return dst;
};
