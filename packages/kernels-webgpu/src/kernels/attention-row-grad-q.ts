// Fused dQ of attention, row per invocation (attention-row-shader.ts): each invocation owns one query,
// holds its q and dO rows and its f32 dQ row in registers, and walks the visible keys in tiles of BC
// keys and values in workgroup memory: P = exp(s - lse) from the saved log-sum-exp,
// dS = P (dO·v - delta), dQ += dS k; dQ = that times the scale.
import type { DType } from '@tessera/tensor';
import { ENTRY, OPERAND, prelude, queryTile, W, type MaskKind, type OperandName } from './attention-shader.js';
import { addRow, dotRow, loadRow, ROW_OWNER, rowDecls, storeRow, visibleKeys } from './attention-row-shader.js';

/** WGSL of the row dQ for these reads (q, k, v, dO, lse, delta, then the mask if any) and head-dim bucket. */
export function rowGradQSource(reads: readonly { name: OperandName; dtype: DType }[], kind: MaskKind, dv: number, bc: number, software: boolean): string {
  return `${prelude(reads, kind)}
${rowDecls(dv, bc, ['Ks', 'Vs'], software)}
${ENTRY} {
  ${queryTile(ROW_OWNER)}
  ${loadRow('qr', 'q', 'b', 'h', 'ic')}
  ${loadRow('dor', 'dO', 'b', 'h', 'ic')}
  let lse = f32(ld_lse(at4(${OPERAND.lse}u, 0u, b, h, ic)));
  let delta = f32(ld_delta(at4(${OPERAND.delta}u, 0u, b, h, ic)));
  var dq: array<vec4<f32>, DV>;
  ${visibleKeys(`let pr = exp(s - lse);
      ${dotRow('dpv', 'dor', 'Vs', 'jj')}
      let ds = pr * (dpv - delta);
      ${addRow('dq', 'ds', 'Ks', 'jj')}`)}
  let row = (bh * T + ic) * D - p(${W.OUT_SHIFT}u);
  ${storeRow('live', 'row', 'dq', 'scale')}
}
`;
}
