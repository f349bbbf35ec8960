// Fused dQ of attention (FlashAttention-2's query pass): one workgroup per 16 queries of one (batch,
// head) walks the visible key tiles, recomputes P = exp(s - lse) from the saved log-sum-exp, forms
// dS = P ∘ (dO vᵀ - delta) in a 16x16 tile and accumulates dS k into its f32 output rows; dQ = that
// times the scale. No (T, S) matrix reaches global memory. Held to the decomposition in
// test/attention.gpu.test.ts.
import type { AttentionAttrs, TensorView } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { storageBytes } from '../wgsl/dtype-io.js';
import { accumulateTiles, addTo, ENTRY, gradParams, gradReads, load, OPERAND, prelude, TILE_MEMORY, queryTile, TILE_ROWS, tileDot, W, type MaskKind, type OperandName } from './attention-shader.js';
import { dispatchAttention } from './attention-windows.js';
import { rowGradQSource } from './attention-row-grad-q.js';
import { attentionPipeline, attentionTileRows } from './attention-row-shader.js';

function source(reads: readonly { name: OperandName; view: TensorView }[], kind: MaskKind): string {
  return `${prelude(reads.map((r) => ({ name: r.name, dtype: r.view.dtype })), kind)}
${TILE_MEMORY}
${ENTRY} {
  ${queryTile(TILE_ROWS)}
  let row = (bh * T + ic) * D - p(${W.OUT_SHIFT}u);
  let lse = f32(ld_lse(at4(${OPERAND.lse}u, 0u, b, h, ic)));
  let delta = f32(ld_delta(at4(${OPERAND.delta}u, 0u, b, h, ic)));
  // Pool buffers hold stale data: the accumulated output rows start at zero.
  for (var d = lane; d < D; d = d + 4u) { if (live) { out[row + d] = 0u; } }
  for (var j0 = 0u; j0 < kEnd; j0 = j0 + 16u) {
    ${tileDot('qk', 't0', 'T', load('q', 'b', 'h'), 'j0', 'S', load('k', 'b', 'hk'))}
    ${tileDot('dpv', 't0', 'T', load('dO', 'b', 'h'), 'j0', 'S', load('v', 'b', 'hk'))}
    for (var jj = 0u; jj < n4(); jj = jj + 1u) {
      let c = lane * 4u + jj; let j = j0 + c;
      var s = neg_inf();
      if (j < S && live) { s = qk[jj] * scale + mask_bias(b, h, i, j); }
      let pr = select(exp(s - lse), 0.0, s == neg_inf());
      Ds[r * 16u + c] = pr * (dpv[jj] - delta);
    }
    ${accumulateTiles('j0', 'S', [{ tile: 'Ds', acc: 'dq', store: addTo('live', 'row', 'dq'), load: load('k', 'b', 'hk') }])}
  }
  for (var d = lane; d < D; d = d + 4u) { if (live) { out[row + d] = bitcast<u32>(bitcast<f32>(out[row + d]) * scale); } }
}
`;
}

/** Fused dQ of attention: (B, H, T, D) in f32 (packed dtypes are widened and cast by the backend). */
export const attentionGradQKernel: GpuKernel<AttentionAttrs> = (ctx, inputs, attrs, out) => {
  const q = inputs[0]!;
  const size = out.shape.reduce((x, y) => x * y, 1);
  const buffer = ctx.acquire(storageBytes('f32', size));
  if (size === 0) return buffer;
  const reads = gradReads(inputs, attrs);
  const d = q.shape[3]!;
  // Head dims up to 128: the row kernel; wider ones the 16x16-tile kernel.
  const tileRows = attentionTileRows(d);
  const { params, kind } = gradParams('attentionGradQ', reads, attrs, q.shape[1]!, q.shape[2]!, tileRows);
  const key = `attentionGradQ:${reads.map((r) => r.view.dtype).join(',')}`;
  const pipeline = attentionPipeline(ctx, key, reads, params, d, (r, dv, bc, sw) => rowGradQSource(r, kind, dv, bc, sw), () => source(reads, kind));
  dispatchAttention(ctx, 'attentionGradQ', pipeline, reads, buffer, params, 'query', tileRows);
  return buffer;
};
