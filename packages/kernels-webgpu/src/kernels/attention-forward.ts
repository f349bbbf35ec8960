// Fused attention forward (FlashAttention-2 style): one workgroup per 16 queries of one (batch, head)
// walks the key tiles a causal mask leaves visible, keeping a running max m and sum l per query and
// the output rows in f32 registers (online softmax), so scores exist only as a 16x16 tile in
// workgroup memory. `attention` writes the output (B, H, T, D); `attentionForward` also writes the
// log-sum-exp m + log l in a last column (B, H, T, D + 1) for the backward (attention-grad-*.ts).
// A query row that no key may attend to gets NaN, as the decomposition's softmax does.
import type { AttentionAttrs, TensorView } from '@tessera/tensor';
import { PARAM_WORDS } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { storageBytes } from '../wgsl/dtype-io.js';
import { accumulateTiles, addTo, ENTRY, load, maskKind, prelude, queryTile, TILE_MEMORY, TILE_ROWS, tileDot, W, writeOperand, writeSizes, type MaskKind } from './attention-shader.js';
import { dispatchAttention } from './attention-windows.js';
import { rowForwardSource } from './attention-row-forward.js';
import { attentionPipeline, attentionTileRows } from './attention-row-shader.js';

function source(q: TensorView, k: TensorView, v: TensorView, mask: TensorView | undefined, kind: MaskKind): string {
  const reads = [
    { name: 'q' as const, dtype: q.dtype },
    { name: 'k' as const, dtype: k.dtype },
    { name: 'v' as const, dtype: v.dtype },
    ...(mask ? [{ name: 'mask' as const, dtype: mask.dtype }] : []),
  ];
  return `${prelude(reads, kind)}
${TILE_MEMORY}
${ENTRY} {
  ${queryTile(TILE_ROWS)}
  var m_run = neg_inf();
  var l_run = 0.0;
  let cols = p(${W.OUT_COLS}u);
  let row = (bh * T + ic) * cols - p(${W.OUT_SHIFT}u);
  // Pool buffers hold stale data: the accumulated output rows start at zero.
  for (var d = lane; d < D; d = d + 4u) { if (live) { out[row + d] = 0u; } }
  for (var j0 = 0u; j0 < kEnd; j0 = j0 + 16u) {
    ${tileDot('qk', 't0', 'T', load('q', 'b', 'h'), 'j0', 'S', load('k', 'b', 'hk'))}
    for (var jj = 0u; jj < n4(); jj = jj + 1u) {
      let c = lane * 4u + jj; let j = j0 + c;
      var s = neg_inf();
      if (j < S && i < T) { s = qk[jj] * scale + mask_bias(b, h, i, j); }
      Ds[r * 16u + c] = s;
    }
    workgroupBarrier();
    var mx = m_run;
    for (var c = 0u; c < n16(); c = c + 1u) { mx = max(mx, Ds[r * 16u + c]); }
    for (var jj = 0u; jj < n4(); jj = jj + 1u) {
      let c = lane * 4u + jj; let s = Ds[r * 16u + c];
      Ps[r * 16u + c] = select(exp(s - mx), 0.0, s == neg_inf());
    }
    let alpha = select(exp(m_run - mx), 0.0, m_run == neg_inf());
    workgroupBarrier();
    var rowSum = 0.0;
    for (var c = 0u; c < n16(); c = c + 1u) { rowSum = rowSum + Ps[r * 16u + c]; }
    l_run = l_run * alpha + rowSum;
    m_run = mx;
    for (var d = lane; d < D; d = d + 4u) { if (live) { out[row + d] = bitcast<u32>(bitcast<f32>(out[row + d]) * alpha); } }
    ${accumulateTiles('j0', 'S', [{ tile: 'Ps', acc: 'pv', store: addTo('live', 'row', 'pv'), load: load('v', 'b', 'hk') }])}
  }
  if (i >= T) { return; }
  let dead = l_run == 0.0;
  for (var d = lane; d < D; d = d + 4u) { out[row + d] = bitcast<u32>(select(bitcast<f32>(out[row + d]) / l_run, nan_f32(), dead)); }
  if (lane == 0u && cols > D) { out[row + D] = bitcast<u32>(select(m_run + log(l_run), nan_f32(), dead)); }
}
`;
}

function forwardKernel(packed: boolean): GpuKernel<AttentionAttrs> {
  const name = packed ? 'attentionForward' : 'attention';
  return (ctx, [q, k, v, mask], attrs, out) => {
    const [b, h, t, d] = q!.shape as [number, number, number, number];
    const s = k!.shape[2]!;
    const size = out.shape.reduce((x, y) => x * y, 1);
    const buffer = ctx.acquire(storageBytes('f32', size));
    if (b * h * t === 0) return buffer;
    if (s === 0) throw new RangeError(`${name}: no keys (k [${k!.shape.join(',')}]); the softmax over an empty dim is undefined on webgpu`);
    const kind = maskKind(name, attrs.hasMask ? mask : undefined, [b, h, t, s]);
    const params = new Uint32Array(PARAM_WORDS);
    writeSizes(params, q!, k!, attrs);
    // Head dims up to 128: the row kernel (attention-row-forward.ts); wider ones the 16x16-tile kernel.
    const rows = attentionTileRows(d);
    const tiles = Math.ceil(t / rows);
    params[W.ROW_TILES] = tiles;
    params[W.OUT_COLS] = d + (packed ? 1 : 0);
    params[W.GROUPS] = b * h * tiles;
    writeOperand(params, 'q', q!);
    writeOperand(params, 'k', k!);
    writeOperand(params, 'v', v!);
    if (kind !== 'none') writeOperand(params, 'mask', mask!);
    const m = kind === 'none' ? undefined : mask;
    const key = `attention:${q!.dtype},${k!.dtype},${v!.dtype},${m?.dtype ?? 'none'}`;
    const reads = [
      { name: 'q' as const, view: q! },
      { name: 'k' as const, view: k! },
      { name: 'v' as const, view: v! },
      ...(m ? [{ name: 'mask' as const, view: m }] : []),
    ];
    const pipeline = attentionPipeline(ctx, key, reads, params, d, (r, dv, bc, sw) => rowForwardSource(r, kind, dv, bc, sw), () => source(q!, k!, v!, m, kind));
    dispatchAttention(ctx, name, pipeline, reads, buffer, params, 'query', rows);
    return buffer;
  };
}

/** Fused attention (f32 output; packed dtypes are widened and cast by the backend). */
export const attentionKernel = forwardKernel(false);
/** Fused attention with the log-sum-exp as a last column, for the backward. */
export const attentionForwardKernel = forwardKernel(true);
