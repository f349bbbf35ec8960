// What the row-per-invocation attention kernels share (attention-row-forward.ts, -row-grad-q.ts,
// -row-grad-kv.ts): FlashAttention-2's loop order, each workgroup owning 64 rows (queries, or keys for
// dK/dV) and walking tiles of the other side through workgroup memory, with each invocation owning one
// row outright: its operand rows and its f32 accumulators live in registers (DV vec4s each), its
// scores and softmax statistics are its own, so a tile costs two barriers and no cross-invocation
// reductions; every workgroup-memory read is a broadcast (all invocations read the same key), which
// GPUs serve at full rate. The head dim is specialised to a bucket (16/32/64/128, zero-padded), so the
// register arrays are indexed by constant loops; other head dims (> 128) take the 16x16-tile kernels.
// The online softmax rescales lazily, only when a row's running max grows.
import type { DType, TensorView } from '@tessera/tensor';
import type { GpuContext } from '../gpu-context.js';
import { OPERAND, TILE, W, type OperandName, type RowOwner } from './attention-shader.js';

/** Rows a workgroup owns: one per invocation. */
export const ROWS = 64;
/** The row kernels' row owner (attention-shader.ts queryTile/keyTile): invocation tid owns row tid. */
export const ROW_OWNER: RowOwner = { rows: ROWS, row: 'tid' };
/** Largest head dim the row kernels take. */
export const MAX_ROW_HEAD_DIM = 128;

/** The register shape for head dim d: DV vec4s per row, and BC rows of the other side per tile (two tiles of BC·DV vec4s: 8 KiB). */
export function rowShape(d: number): { dv: number; bc: number } {
  const dv = d <= 16 ? 4 : d <= 32 ? 8 : d <= 64 ? 16 : 32;
  return { dv, bc: 256 / dv };
}

/** Adapters that run shaders on the CPU (their LLVM takes minutes over fully unrolled register loops). */
export const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader/i;

/**
 * WGSL: the register and tile sizes. On GPUs dvn() and bcn() are the bucket's constants DV and BC, so
 * the vec4 loops unroll and the rows stay in registers. On software adapters one pipeline serves every
 * head dim up to 128: arrays of the largest bucket, and dvn()/bcn() read from uniform words (the same
 * loops, not unrolled: lavapipe's LLVM otherwise spends minutes per pipeline, one per bucket).
 */
export function rowDecls(dv: number, bc: number, tiles: readonly string[], software: boolean): string {
  const size = software ? { dv: 32, bc: 64 } : { dv, bc };
  return `const DV = ${size.dv}u;
const BC = ${size.bc}u;
fn dvn() -> u32 { return ${software ? `p(${W.DVN}u)` : 'DV'}; }
fn bcn() -> u32 { return ${software ? `p(${W.BCN}u)` : 'BC'}; }
${tiles.map((t) => `var<workgroup> ${t}: array<vec4<f32>, ${256}>;`).join('\n')}`;
}

/** WGSL: \`var name: array<vec4<f32>, DV>\` holding row \`row\` of operand \`op\` at (b, h), zero past D. */
export function loadRow(name: string, op: OperandName, b: string, h: string, row: string): string {
  return `var ${name}: array<vec4<f32>, DV>;
  for (var c = 0u; c < dvn(); c = c + 1u) {
    for (var e = 0u; e < 4u; e = e + 1u) {
      let d = 4u * c + e;
      if (d < D) { ${name}[c][e] = f32(ld_${op}(at4(${OPERAND[op]}u, ${b}, ${h}, ${row}, d))); }
    }
  }`;
}

/**
 * WGSL: every invocation helps load rows r0 .. r0 + BC of each operand at (b, h) into its tile, zero
 * past \`rows\` and D (between the barriers the caller places).
 */
export function loadTiles(r0: string, rows: string, tiles: readonly { tile: string; op: OperandName; b: string; h: string }[]): string {
  return `for (var e = tid; e < bcn() * dvn() * 4u; e = e + 64u) {
      let rr = e / (dvn() * 4u); let col = e % (dvn() * 4u);
      let live_e = ${r0} + rr < ${rows} && col < D;
      ${tiles
        .map((t) => `var x_${t.tile} = 0.0; if (live_e) { x_${t.tile} = f32(ld_${t.op}(at4(${OPERAND[t.op]}u, ${t.b}, ${t.h}, ${r0} + rr, col))); }
      ${t.tile}[rr * dvn() + col / 4u][col % 4u] = x_${t.tile};`)
        .join('\n      ')}
    }`;
}

/** WGSL: \`let res\` = the dot product of register row \`a\` with row \`rr\` of a tile. */
export function dotRow(res: string, a: string, tile: string, rr: string): string {
  return `var ${res}_v = vec4<f32>(0.0);
      for (var c = 0u; c < dvn(); c = c + 1u) { ${res}_v = ${res}_v + ${a}[c] * ${tile}[${rr} * dvn() + c]; }
      let ${res} = ${res}_v.x + ${res}_v.y + ${res}_v.z + ${res}_v.w;`;
}

/** WGSL: register row \`acc\` += \`w\` × row \`rr\` of a tile. */
export function addRow(acc: string, w: string, tile: string, rr: string): string {
  return `for (var c = 0u; c < dvn(); c = c + 1u) { ${acc}[c] = ${acc}[c] + ${w} * ${tile}[${rr} * dvn() + c]; }`;
}

/** WGSL: writes register row \`acc\` times \`factor\` to the f32 output at word \`row\` (columns below D), when \`live\`. */
export function storeRow(live: string, row: string, acc: string, factor: string): string {
  return `if (${live}) {
    for (var c = 0u; c < dvn(); c = c + 1u) {
      for (var e = 0u; e < 4u; e = e + 1u) {
        let d = 4u * c + e;
        if (d < D) { out[${row} + d] = bitcast<u32>(${acc}[c][e] * ${factor}); }
      }
    }
  }`;
}

/**
 * WGSL: a query pass's walk over the keys its workgroup may see (kEnd): tiles of BC keys and values
 * staged in Ks and Vs; for each key j0 + jj with a score s (scaled, masked) above -inf for this
 * invocation's live query (its row \`qr\`), \`body\`.
 */
export function visibleKeys(body: string): string {
  return `for (var j0 = 0u; j0 < kEnd; j0 = j0 + bcn()) {
    workgroupBarrier();
    ${loadTiles('j0', 'S', [
      { tile: 'Ks', op: 'k', b: 'b', h: 'hk' },
      { tile: 'Vs', op: 'v', b: 'b', h: 'hk' },
    ])}
    workgroupBarrier();
    let jn = min(bcn(), kEnd - j0);
    for (var jj = 0u; jj < jn; jj = jj + 1u) {
      if (!live) { break; }
      ${dotRow('qk', 'qr', 'Ks', 'jj')}
      let s = qk * scale + mask_bias(b, h, i, j0 + jj);
      if (s == neg_inf()) { continue; }
      ${body}
    }
  }`;
}

/** Rows per workgroup for head dim d: the row kernels' 64 up to MAX_ROW_HEAD_DIM, else the 16x16-tile kernels' 16. */
export function attentionTileRows(d: number): number {
  return d <= MAX_ROW_HEAD_DIM ? ROWS : TILE;
}

/**
 * The pipeline of a fused attention kernel for head dim d: the row kernel from \`rowSource\` (its sizes
 * written into \`params\`; one pipeline per head-dim bucket on GPUs, one in all on software adapters)
 * when attentionTileRows(d) is ROWS, else the 16x16-tile kernel from \`tileSource\`.
 */
export function attentionPipeline(
  ctx: GpuContext,
  key: string,
  reads: readonly { name: OperandName; view: TensorView }[],
  params: Uint32Array,
  d: number,
  rowSource: (reads: readonly { name: OperandName; dtype: DType }[], dv: number, bc: number, software: boolean) => string,
  tileSource: () => string,
): GPUComputePipeline {
  if (attentionTileRows(d) !== ROWS) return ctx.pipelines.get(key, reads.length, tileSource);
  const { dv, bc } = rowShape(d);
  const software = SOFTWARE_ADAPTER.test(ctx.adapterName);
  params[W.DVN] = dv;
  params[W.BCN] = bc;
  const dtypes = reads.map((r) => ({ name: r.name, dtype: r.view.dtype }));
  return ctx.pipelines.get(software ? `${key}:rows` : `${key}:rows${dv}`, reads.length, () => rowSource(dtypes, dv, bc, software));
}
