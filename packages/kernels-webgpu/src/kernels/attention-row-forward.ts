// Fused attention forward, row per invocation (attention-row-shader.ts): each invocation owns one
// query, holds its q row and f32 output row in registers, and walks the visible keys in tiles of BC
// keys and values staged in workgroup memory, with an online softmax whose running max and sum are
// its own. Writes the output (B, H, T, D) and, for attentionForward, the log-sum-exp m + log l as a
// last column. A query no key may attend to gets NaN, as the decomposition's softmax does.
import type { DType } from '@tessera/tensor';
import { ENTRY, prelude, queryTile, W, type MaskKind, type OperandName } from './attention-shader.js';
import { addRow, loadRow, ROW_OWNER, rowDecls, visibleKeys } from './attention-row-shader.js';

/** WGSL of the row forward for these reads (q, k, v, then the mask if any) and head-dim bucket. */
export function rowForwardSource(reads: readonly { name: OperandName; dtype: DType }[], kind: MaskKind, dv: number, bc: number, software: boolean): string {
  return `${prelude(reads, kind)}
${rowDecls(dv, bc, ['Ks', 'Vs'], software)}
${ENTRY} {
  ${queryTile(ROW_OWNER)}
  ${loadRow('qr', 'q', 'b', 'h', 'ic')}
  var acc: array<vec4<f32>, DV>;
  var m_run = neg_inf();
  var l_run = 0.0;
  ${visibleKeys(`if (s > m_run) {
        // Lazy rescale: only when this row's max grows (rarely, after its first keys).
        let alpha = select(exp(m_run - s), 0.0, m_run == neg_inf());
        for (var c = 0u; c < dvn(); c = c + 1u) { acc[c] = acc[c] * alpha; }
        l_run = l_run * alpha;
        m_run = s;
      }
      let pr = exp(s - m_run);
      l_run = l_run + pr;
      ${addRow('acc', 'pr', 'Vs', 'jj')}`)}
  if (!live) { return; }
  let cols = p(${W.OUT_COLS}u);
  let row = (bh * T + i) * cols - p(${W.OUT_SHIFT}u);
  let dead = l_run == 0.0;
  for (var c = 0u; c < dvn(); c = c + 1u) {
    for (var e = 0u; e < 4u; e = e + 1u) {
      let d = 4u * c + e;
      if (d < D) { out[row + d] = bitcast<u32>(select(acc[c][e] / l_run, nan_f32(), dead)); }
    }
  }
  if (cols > D) { out[row + D] = bitcast<u32>(select(m_run + log(l_run), nan_f32(), dead)); }
}
`;
}
