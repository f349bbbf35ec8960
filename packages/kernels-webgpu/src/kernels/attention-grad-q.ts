// Fused dQ of attention (FlashAttention-2's query pass): one workgroup per 16 queries of one (batch,
// head) walks the visible key tiles, recomputes P = exp(s - lse) from the saved log-sum-exp, forms
// dS = P ∘ (dO vᵀ - delta) in a 16x16 tile and accumulates dS k into its f32 output rows; dQ = that
// times the scale. No (T, S) matrix reaches global memory. Held to the decomposition in
// test/attention.gpu.test.ts.
import type { AttentionAttrs, TensorView } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { bufferOf } from '../map-dispatch.js';
import { storageBytes } from '../wgsl/dtype-io.js';
import { accumulateTiles, addTo, gradParams, gradReads, load, OPERAND, prelude, tileDot, W, type MaskKind, type OperandName } from './attention-shader.js';

function source(reads: readonly { name: OperandName; view: TensorView }[], kind: MaskKind): string {
  return `${prelude(reads.map((r) => ({ name: r.name, dtype: r.view.dtype })), kind)}
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let o = wid.x + wid.y * nwg.x;
  if (o >= p(${W.GROUPS}u)) { return; }
  let T = p(${W.T}u); let S = p(${W.S}u); let D = p(${W.D}u); let H = p(${W.H}u);
  let scale = pf(${W.SCALE}u);
  let tile = o % p(${W.ROW_TILES}u);
  let bh = o / p(${W.ROW_TILES}u);
  let b = bh / H; let h = bh % H; let hk = h / p(${W.GROUP}u);
  let r = tid / 4u; let lane = tid % 4u;
  let t0 = tile * 16u;
  let i = t0 + r;
  let live = i < T;
  let ic = min(i, T - 1u);
  let row = (bh * T + ic) * D;
  let lse = f32(ld_lse(at4(${OPERAND.lse}u, 0u, b, h, ic)));
  let delta = f32(ld_delta(at4(${OPERAND.delta}u, 0u, b, h, ic)));
  var kEnd = S;
  if (p(${W.CAUSAL}u) == 1u) { kEnd = u32(clamp(i32(min(t0 + 15u, T - 1u)) + i32(S) - i32(T) + 1, 0, i32(S))); }
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
  const { params, kind } = gradParams('attentionGradQ', reads, attrs, q.shape[1]!, q.shape[2]!);
  const key = `attentionGradQ:${reads.map((r) => r.view.dtype).join(',')}`;
  const pipeline = ctx.pipelines.get(key, reads.length, () => source(reads, kind));
  ctx.dispatch(pipeline, reads.map((r) => bufferOf(r.view)), buffer, params, params[W.GROUPS]!);
  return buffer;
};
