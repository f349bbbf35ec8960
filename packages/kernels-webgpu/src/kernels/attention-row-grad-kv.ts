// Fused dK and dV of attention, row per invocation (attention-row-shader.ts): each invocation owns one
// key of a kv head, holds its k and v rows and its f32 dK and dV rows in registers, and for each of
// the H/Hkv query heads sharing the kv head (grouped-query sums without atomics) walks the queries
// that can see the workgroup's keys in tiles of BC queries and output gradients in workgroup memory
// (with their lse and delta): P = exp(s - lse), dV += P dO, dS = P (dO·v - delta), dK += dS q;
// dK = that times the scale. Output (2, B, Hkv, S, D): dK then dV.
import type { DType } from '@tessera/tensor';
import { ENTRY, keyTile, OPERAND, prelude, W, type MaskKind, type OperandName } from './attention-shader.js';
import { addRow, dotRow, loadRow, loadTiles, ROW_OWNER, rowDecls, storeRow } from './attention-row-shader.js';

/** WGSL of the row dK/dV for these reads (q, k, v, dO, lse, delta, then the mask if any) and head-dim bucket. */
export function rowGradKVSource(reads: readonly { name: OperandName; dtype: DType }[], kind: MaskKind, dv: number, bc: number, software: boolean): string {
  return `${prelude(reads, kind)}
${rowDecls(dv, bc, ['Qs', 'Os'], software)}
var<workgroup> Ls: array<f32, 64>;
var<workgroup> Es: array<f32, 64>;
${ENTRY} {
  ${keyTile(ROW_OWNER)}
  ${loadRow('kr', 'k', 'b', 'hk', 'jc')}
  ${loadRow('vr', 'v', 'b', 'hk', 'jc')}
  var dk: array<vec4<f32>, DV>;
  var dv: array<vec4<f32>, DV>;
  // Queries before the first one that sees key j0 are skipped (causal).
  var iStart = 0u;
  if (p(${W.CAUSAL}u) == 1u) { iStart = u32(max(i32(j0) + i32(T) - i32(S), 0)); }
  for (var g = 0u; g < G; g = g + 1u) {
    let h = hk * G + g;
    for (var i0 = iStart; i0 < T; i0 = i0 + bcn()) {
      workgroupBarrier();
      ${loadTiles('i0', 'T', [
        { tile: 'Qs', op: 'q', b: 'b', h: 'h' },
        { tile: 'Os', op: 'dO', b: 'b', h: 'h' },
      ])}
      if (tid < bcn()) {
        let iq = min(i0 + tid, T - 1u);
        Ls[tid] = f32(ld_lse(at4(${OPERAND.lse}u, 0u, b, h, iq)));
        Es[tid] = f32(ld_delta(at4(${OPERAND.delta}u, 0u, b, h, iq)));
      }
      workgroupBarrier();
      let n = min(bcn(), T - i0);
      for (var ii = 0u; ii < n; ii = ii + 1u) {
        if (!live) { break; }
        ${dotRow('kq', 'kr', 'Qs', 'ii')}
        let s = kq * scale + mask_bias(b, h, i0 + ii, j);
        if (s == neg_inf()) { continue; }
        let pr = exp(s - Ls[ii]);
        ${addRow('dv', 'pr', 'Os', 'ii')}
        ${dotRow('vdo', 'vr', 'Os', 'ii')}
        let ds = pr * (vdo - Es[ii]);
        ${addRow('dk', 'ds', 'Qs', 'ii')}
      }
    }
  }
  // Split over binding windows, a dispatch may write only dK or only dV (its window holds one of them).
  let rowK = (bk * S + jc) * D - p(${W.OUT_SHIFT}u);
  let rowV = rowK + p(${W.B}u) * HKV * S * D;
  ${storeRow(`live && p(${W.KV_PART}u) != 2u`, 'rowK', 'dk', 'scale')}
  ${storeRow(`live && p(${W.KV_PART}u) != 1u`, 'rowV', 'dv', '1.0')}
}
`;
}
