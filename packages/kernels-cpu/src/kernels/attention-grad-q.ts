// Fused attentionGradQ (composite of @tessera/tensor): per (batch, head, query row), the row of masked
// scores is recomputed, P = exp(s - lse), dP = dO_i · v_j, dS = P (dP - delta_i), and
// dQ_i = scale Σ_j dS_j k_j accumulates in double precision. No (T, S) matrix is formed.
import type { TensorView } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { attentionDims, checkNoDropout, denseOperands, MaskReader, RowStat, scoreRow, visibleKeys, type FusedAttentionAttrs } from './attention-rows.js';

/** dQ (B, H, T, D) from q, k, v, dO, lse, delta and the optional mask. */
export const attentionGradQKernel: CpuKernel<FusedAttentionAttrs> = (inputs, attrs, out) => {
  checkNoDropout('attentionGradQ', attrs);
  const [qv, kv, vv, , lsev, deltav, maskView] = inputs as TensorView[];
  const dims = attentionDims('attentionGradQ', qv!, kv!, vv!);
  const { b: B, h: H, hkv: Hkv, t: T, s: S, d: D, dv: Dv, group } = dims;
  const dst = resultArray(out.dtype, B * H * T * D);
  if (dst.length === 0) return dst;
  const { q, k, v, dO } = denseOperands(inputs, true);
  const lse = new RowStat(lsev!);
  const delta = new RowStat(deltav!);
  const mask = attrs.hasMask ? new MaskReader(maskView!, dims) : null;
  const row = new Float64Array(S);
  const acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvHead = b * Hkv + Math.floor(h / group);
      const kAt = k.offset + kvHead * S * D;
      const vAt = v.offset + kvHead * S * Dv;
      for (let i = 0; i < T; i++) {
        const qAt = q.offset + ((b * H + h) * T + i) * D;
        const gAt = dO.offset + ((b * H + h) * T + i) * Dv;
        const l = lse.at(b, h, i);
        const dl = delta.at(b, h, i);
        // Causally hidden keys have P = exp(-inf - lse) = 0 and are skipped, unless lse is -inf or NaN
        // (a row with every key masked), where the decomposition's P is NaN for every key.
        const seen = visibleKeys(attrs.causal, i, dims);
        const end = l > -Infinity ? seen : S;
        scoreRow(row, q.data, qAt, k.data, kAt, D, end, attrs.scale, mask, mask ? mask.rowOffset(b, h, i) : 0);
        for (let j = seen; j < end; j++) row[j] = -Infinity;
        acc.fill(0);
        for (let j = 0; j < end; j++) {
          const p = Math.exp((lse.f32 ? Math.fround(row[j]!) : row[j]!) - l);
          if (p === 0) continue;
          const vj = vAt + j * Dv;
          let dp = 0;
          for (let e = 0; e < Dv; e++) dp += dO.data[gAt + e]! * v.data[vj + e]!;
          const ds = p * (dp - dl);
          const kj = kAt + j * D;
          for (let e = 0; e < D; e++) acc[e] += ds * k.data[kj + e]!;
        }
        const oAt = ((b * H + h) * T + i) * D;
        for (let e = 0; e < D; e++) dst[oAt + e] = acc[e]! * attrs.scale;
      }
    }
  }
  return dst;
};
