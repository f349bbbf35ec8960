// Fused dK and dV of attention (FlashAttention-2's key pass): one workgroup per 16 keys of one
// (batch, kv head) walks the query tiles that can see them, for each of the H/Hkv query heads sharing
// the kv head (so grouped-query sums need no atomics), recomputes P = exp(s - lse) and
// dS = P ∘ (dO vᵀ - delta) in 16x16 tiles and accumulates dV += Pᵀ dO and dK += dSᵀ q into its f32
// output rows: (2, B, Hkv, S, D), dK (times the scale) then dV. No (T, S) matrix reaches global memory.
// Held to the decomposition in test/attention.gpu.test.ts.
import type { AttentionAttrs, TensorView } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { storageBytes } from '../wgsl/dtype-io.js';
import { accumulateTiles, addTo, ENTRY, gradParams, gradReads, keyTile, load, OPERAND, prelude, TILE_MEMORY, TILE_ROWS, tileDot, W, type MaskKind, type OperandName } from './attention-shader.js';
import { dispatchAttention } from './attention-windows.js';
import { rowGradKVSource } from './attention-row-grad-kv.js';
import { attentionPipeline, attentionTileRows } from './attention-row-shader.js';

function source(reads: readonly { name: OperandName; view: TensorView }[], kind: MaskKind): string {
  return `${prelude(reads.map((r) => ({ name: r.name, dtype: r.view.dtype })), kind)}
${TILE_MEMORY}
${ENTRY} {
  ${keyTile(TILE_ROWS)}
  // Split over binding windows, a dispatch may write only dK or only dV (its window holds one of them).
  let liveK = live && p(${W.KV_PART}u) != 2u;
  let liveV = live && p(${W.KV_PART}u) != 1u;
  let rowK = (bk * S + jc) * D - p(${W.OUT_SHIFT}u);
  let rowV = rowK + p(${W.B}u) * HKV * S * D;
  // Queries before the first one that sees key j0 are skipped (causal).
  var iStart = 0u;
  if (p(${W.CAUSAL}u) == 1u) { iStart = (u32(max(i32(j0) + i32(T) - i32(S), 0)) / 16u) * 16u; }
  // Pool buffers hold stale data: the accumulated output rows start at zero.
  for (var d = lane; d < D; d = d + 4u) { if (liveK) { out[rowK + d] = 0u; } if (liveV) { out[rowV + d] = 0u; } }
  for (var g = 0u; g < G; g = g + 1u) {
    let h = hk * G + g;
    for (var i0 = iStart; i0 < T; i0 = i0 + 16u) {
      ${tileDot('kq', 'j0', 'S', load('k', 'b', 'hk'), 'i0', 'T', load('q', 'b', 'h'))}
      ${tileDot('vdo', 'j0', 'S', load('v', 'b', 'hk'), 'i0', 'T', load('dO', 'b', 'h'))}
      for (var ii = 0u; ii < n4(); ii = ii + 1u) {
        let c = lane * 4u + ii; let i = i0 + c;
        var s = neg_inf();
        var lse = 0.0;
        var delta = 0.0;
        if (i < T && live) {
          s = kq[ii] * scale + mask_bias(b, h, i, j);
          lse = f32(ld_lse(at4(${OPERAND.lse}u, 0u, b, h, i)));
          delta = f32(ld_delta(at4(${OPERAND.delta}u, 0u, b, h, i)));
        }
        let pr = select(exp(s - lse), 0.0, s == neg_inf());
        Ps[r * 16u + c] = pr;
        Ds[r * 16u + c] = pr * (vdo[ii] - delta);
      }
      ${accumulateTiles('i0', 'T', [
        { tile: 'Ps', acc: 'dv', store: addTo('liveV', 'rowV', 'dv'), load: load('dO', 'b', 'h') },
        { tile: 'Ds', acc: 'dk', store: addTo('liveK', 'rowK', 'dk'), load: load('q', 'b', 'h') },
      ])}
    }
  }
  for (var d = lane; d < D; d = d + 4u) { if (liveK) { out[rowK + d] = bitcast<u32>(bitcast<f32>(out[rowK + d]) * scale); } }
}
`;
}

/** Fused dK and dV of attention stacked: (2, B, Hkv, S, D) in f32 (packed dtypes are widened and cast by the backend). */
export const attentionGradKVKernel: GpuKernel<AttentionAttrs> = (ctx, inputs, attrs, out) => {
  const [q, k] = [inputs[0]!, inputs[1]!];
  const size = out.shape.reduce((x, y) => x * y, 1);
  const buffer = ctx.acquire(storageBytes('f32', size));
  if (size === 0) return buffer;
  const reads = gradReads(inputs, attrs);
  const d = q.shape[3]!;
  // Head dims up to 128: the row kernel; wider ones the 16x16-tile kernel.
  const tileRows = attentionTileRows(d);
  const { params, kind } = gradParams('attentionGradKV', reads, attrs, k.shape[1]!, k.shape[2]!, tileRows);
  const key = `attentionGradKV:${reads.map((r) => r.view.dtype).join(',')}`;
  const pipeline = attentionPipeline(ctx, key, reads, params, d, (r, dv, bc, sw) => rowGradKVSource(r, kind, dv, bc, sw), () => source(reads, kind));
  dispatchAttention(ctx, 'attentionGradKV', pipeline, reads, buffer, params, 'key', tileRows);
  return buffer;
};
