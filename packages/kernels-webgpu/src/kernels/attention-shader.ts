// What the fused attention kernels (attention-forward.ts, attention-grad-q.ts, attention-grad-kv.ts)
// share: the uniform words, the strided operand loads, the causal/padding mask, and two WGSL
// building blocks over 16x16 tiles worked by 64 invocations.
//
// Every workgroup owns 16 rows (queries, or keys for dK/dV); invocation `tid` owns row r = tid / 4
// and, of each 16-wide tile, the 4 columns lane*4 .. lane*4+3 (lane = tid % 4) of the score tile and
// the head-dim columns lane + 4*i of its row. Head dims are walked in chunks of 64 through workgroup
// memory (10 KiB in all; wide chunks mean few barriers, which lavapipe pays dearly for), so any D works
// with one pipeline. The f32 accumulators of a row are the
// output row itself (each element owned by one invocation; no atomics): registers indexed by a
// runtime chunk would make lavapipe's LLVM take seconds per pipeline, and the output row is read
// and written once per 16 keys, as often as V is. Scores, probabilities and their gradients live
// only in the 16x16 tiles: no (T, S) matrix is ever written to global memory.
import type { DType, TensorView } from '@tessera/tensor';
import { PARAM_WORDS } from '../gpu-context.js';
import { f32Bits } from '../map-dispatch.js';
import { CONVERSIONS, loadFunction } from '../wgsl/dtype-io.js';
import { INDEXING } from '../wgsl/indexing.js';
import type { AttentionAttrs } from '@tessera/tensor';

/** Rows (and columns) of a tile. */
export const TILE = 16;

/**
 * Uniform words: sizes and flags, then each operand's offset and 4 strides (broadcast strides for the
 * mask). A dispatch runs workgroups O0 .. O0 + GROUPS of the whole grid (one piece when operands are
 * split over binding windows, attention-windows.ts); its output is written through a window starting
 * at word OUT_SHIFT, and KV_PART says which of dK/dV the key pass writes (0 both, 1 dK, 2 dV).
 */
export const W = { B: 0, H: 1, HKV: 2, T: 3, S: 4, D: 5, SCALE: 6, CAUSAL: 7, ROW_TILES: 8, GROUP: 9, OUT_COLS: 10, GROUPS: 11, SIXTEEN: 12, FOUR: 13, O0: 14, OUT_SHIFT: 15, KV_PART: 51, DVN: 52, BCN: 53 } as const;
export const OPERAND = { q: 16, k: 21, v: 26, mask: 31, dO: 36, lse: 41, delta: 46 } as const;
export type OperandName = keyof typeof OPERAND;

/** The mask's dtype as the shader treats it: none, bool (true = attend) or additive float. */
export type MaskKind = 'none' | 'bool' | 'float';

/** Checks the mask is bool or float and broadcasts to (B, H, T, S); returns its kind. */
export function maskKind(name: string, mask: TensorView | undefined, shape: readonly number[]): MaskKind {
  if (!mask) return 'none';
  if (mask.dtype !== 'bool' && mask.dtype !== 'f32' && mask.dtype !== 'f16' && mask.dtype !== 'bf16') {
    throw new TypeError(`${name}: the mask must be bool (true = attend) or an additive float tensor on webgpu (got ${mask.dtype}); cast it`);
  }
  const r = mask.shape.length;
  const ok = r <= 4 && mask.shape.every((d, i) => d === 1 || d === shape[4 - r + i]);
  if (!ok) throw new RangeError(`${name}: mask [${mask.shape.join(',')}] does not broadcast to (B, H, T, S) = [${shape.join(',')}]`);
  return mask.dtype === 'bool' ? 'bool' : 'float';
}

/** Writes an operand's offset and strides over 4 dims (right-aligned; size-1 and missing dims broadcast with stride 0). */
export function writeOperand(params: Uint32Array, name: OperandName, view: TensorView): void {
  const base = OPERAND[name];
  const r = view.shape.length;
  params[base] = view.offset;
  for (let i = 0; i < 4; i++) {
    const k = i - (4 - r);
    params[base + 1 + i] = k < 0 || view.shape[k] === 1 ? 0 : view.strides[k]! >>> 0;
  }
}

/** The shape words shared by every attention kernel. */
export function writeSizes(params: Uint32Array, q: TensorView, k: TensorView, attrs: AttentionAttrs): void {
  const [b, h, t, d] = q.shape as [number, number, number, number];
  const [, hkv, s] = k.shape as [number, number, number, number];
  params[W.B] = b;
  params[W.H] = h;
  params[W.HKV] = hkv;
  params[W.T] = t;
  params[W.S] = s;
  params[W.D] = d;
  params[W.SCALE] = f32Bits(attrs.scale);
  params[W.CAUSAL] = attrs.causal ? 1 : 0;
  params[W.GROUP] = h / hkv;
  params[W.SIXTEEN] = 16;
  params[W.FOUR] = 4;
}

/** WGSL: bindings, loads, the mask and the workgroup tiles, for `reads` (bound in order) and one f32 output. */
export function prelude(reads: readonly { name: OperandName; dtype: DType }[], mask: MaskKind): string {
  const bindings = reads.map((r, i) => `@group(0) @binding(${i + 1}) var<storage, read> b_${r.name}: array<u32>;\n${loadFunction(`ld_${r.name}`, `b_${r.name}`, r.dtype)}`);
  const maskTest =
    mask === 'bool'
      ? `if (ld_mask(at4(${OPERAND.mask}u, b, h, i, j)) == 0u) { return neg_inf(); }`
      : mask === 'float'
        ? `bias = f32(ld_mask(at4(${OPERAND.mask}u, b, h, i, j)));`
        : '';
  return `${INDEXING}
${CONVERSIONS}
${bindings.join('\n')}
@group(0) @binding(${reads.length + 1}) var<storage, read_write> out: array<u32>;
// Head-dim chunks of 64: a uniform trip count, so one pipeline serves every head dim.
// The tile loops run to 16 and 4 read from uniform words, not constants: lavapipe's LLVM otherwise
// unrolls them fully and takes a minute or more to compile each of these pipelines.
fn n16() -> u32 { return p(${W.SIXTEEN}u); }
fn n4() -> u32 { return p(${W.FOUR}u); }
fn chunk_count() -> u32 { return max((p(${W.D}u) + 63u) / 64u, 1u); }
// Through a var: WGSL rejects infinities in constant expressions.
fn neg_inf() -> f32 { var bits = 0xff800000u; return bitcast<f32>(bits); }
fn nan_f32() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
// out[row + d0 + 4q] += v[q] for the columns below D.
fn add4(live: bool, row: u32, d0: u32, v: vec4<f32>) {
  for (var q = 0u; q < n4(); q = q + 1u) {
    let d = d0 + 4u * q;
    if (live && d < p(${W.D}u)) { out[row + d] = bitcast<u32>(bitcast<f32>(out[row + d]) + v[q]); }
  }
}
// Element (a, b, c, d) of the operand whose offset and 4 strides start at word base.
fn at4(base: u32, a: u32, b: u32, c: u32, d: u32) -> u32 {
  return p(base) + a * p(base + 1u) + b * p(base + 2u) + c * p(base + 3u) + d * p(base + 4u);
}
// What the masks add to score (b, h, i, j): 0, -inf (causal: key j after query i's diagonal, which
// sits S - T keys right of the main one; or a false bool mask) or the additive mask's value.
fn mask_bias(b: u32, h: u32, i: u32, j: u32) -> f32 {
  if (p(${W.CAUSAL}u) == 1u && i32(j) > i32(i) + i32(p(${W.S}u)) - i32(p(${W.T}u))) { return neg_inf(); }
  var bias = 0.0;
  ${maskTest}
  return bias;
}
`;
}

/** WGSL: the workgroup memory of the 16x16-tile kernels: 16 rows x 64 head-dim columns of two operands, and the 16x16 probability and score-gradient tiles (10 KiB). */
export const TILE_MEMORY = `var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;
var<workgroup> Ps: array<f32, 256>;
var<workgroup> Ds: array<f32, 256>;`;

/**
 * WGSL: \`res\` (a vec4) = this invocation's 4 dot products of the tile: row r of A (rows a0.., below aN,
 * loaded by \`aLoad(row, d)\`) with rows lane*4.. of B, over the head dim in chunks of 64. Uses As, Bs.
 */
export function tileDot(res: string, a0: string, aN: string, aLoad: (row: string, d: string) => string, b0: string, bN: string, bLoad: (row: string, d: string) => string): string {
  return `var ${res} = vec4<f32>(0.0);
  for (var c0 = 0u; c0 < D; c0 = c0 + 64u) {
    // Row m, column tid of each operand's 16x64 chunk.
    for (var m = 0u; m < n16(); m = m + 1u) {
      let e = m * 64u + tid;
      var av = 0.0; if (${a0} + m < ${aN} && c0 + tid < D) { av = ${aLoad(`${a0} + m`, 'c0 + tid')}; }
      As[e] = av;
      var bv = 0.0; if (${b0} + m < ${bN} && c0 + tid < D) { bv = ${bLoad(`${b0} + m`, 'c0 + tid')}; }
      Bs[e] = bv;
    }
    workgroupBarrier();
    let dn = min(64u, D - c0);
    for (var dd = 0u; dd < dn; dd = dd + 1u) {
      let bb = lane * 256u + dd;
      ${res} = ${res} + As[r * 64u + dd] * vec4<f32>(Bs[bb], Bs[bb + 64u], Bs[bb + 128u], Bs[bb + 192u]);
    }
    workgroupBarrier();
  }`;
}

/**
 * WGSL: for each (weights tile, operand), the 16 sums Σ_c tile[r][c] · X[x0 + c][c0 + lane + 4i] of
 * every head-dim chunk c0 of 64, as 4 vec4s \`acc\`0..3 (column c0 + lane + 16k + 4q in component q of
 * acc k), X loaded by \`load(row, d)\` into As then Bs (at most two pairs), handed to \`store\`.
 */
export function accumulateTiles(x0: string, xN: string, pairs: readonly { tile: 'Ps' | 'Ds'; acc: string; store: string; load: (row: string, d: string) => string }[]): string {
  const buf = ['As', 'Bs'];
  const loads = pairs
    .map((pr, k) => `var x${k} = 0.0; if (${x0} + m < ${xN} && c0 + tid < D) { x${k} = ${pr.load(`${x0} + m`, 'c0 + tid')}; }\n      ${buf[k]}[m * 64u + tid] = x${k};`)
    .join('\n      ');
  const adds = pairs
    .flatMap((pr, k) => [0, 1, 2, 3].map((a) => `${pr.acc}${a} = ${pr.acc}${a} + ${pr.tile}[r * 16u + c] * vec4<f32>(${[0, 4, 8, 12].map((o) => `${buf[k]}[xb + ${16 * a + o}u]`).join(', ')});`))
    .join('\n      ');
  return `for (var ch = 0u; ch < chunk_count(); ch = ch + 1u) {
    let c0 = ch * 64u;
    for (var m = 0u; m < n16(); m = m + 1u) {
      ${loads}
    }
    workgroupBarrier();
    ${pairs.map((pr) => [0, 1, 2, 3].map((a) => `var ${pr.acc}${a} = vec4<f32>(0.0);`).join(' ')).join('\n    ')}
    for (var c = 0u; c < n16(); c = c + 1u) {
      let xb = c * 64u + lane;
      ${adds}
    }
    ${pairs.map((pr) => `${pr.store}`).join('\n    ')}
    workgroupBarrier();
  }`;
}

/** WGSL: the entry point of every attention kernel (64 invocations; \`tid\` the local index). */
export const ENTRY = '@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) tid: u32)';

/** Which row of its workgroup's tile an invocation works on: a quarter row each (16x16-tile kernels) or a whole one (row kernels). */
export type RowOwner = { rows: 16; row: 'tid / 4u' } | { rows: 64; row: 'tid' };

/** The 16x16-tile kernels' row owner: 16 rows, four invocations (lanes) per row. */
export const TILE_ROWS: RowOwner = { rows: 16, row: 'tid / 4u' };

/** WGSL: the piece's workgroup \`o\` and its tile of rows (see W.O0), common to every kernel. */
function pieceStart(owner: RowOwner): string {
  return `let local = wid.x + wid.y * nwg.x;
  if (local >= p(${W.GROUPS}u)) { return; }
  let o = p(${W.O0}u) + local;
  let T = p(${W.T}u); let S = p(${W.S}u); let D = p(${W.D}u);
  let scale = pf(${W.SCALE}u);
  let tile = o % p(${W.ROW_TILES}u);
  let r = ${owner.row};
  let lane = tid % 4u;`;
}

/**
 * WGSL: the start of a query pass (forward, dQ): this workgroup's (batch, head) \`bh\` = (b, h), its
 * kv head hk, its queries t0.. (this invocation's query i, \`live\` when i < T, \`ic\` clamped), the
 * invocation's row r (and lane, for the 16x16 tiles), and kEnd, the end of the keys any of its queries may see.
 */
export function queryTile(owner: RowOwner): string {
  return `${pieceStart(owner)}
  let H = p(${W.H}u);
  let bh = o / p(${W.ROW_TILES}u);
  let b = bh / H; let h = bh % H; let hk = h / p(${W.GROUP}u);
  let t0 = tile * ${owner.rows}u;
  let i = t0 + r;
  let live = i < T;
  let ic = min(i, T - 1u);
  // Keys past the last visible one of this tile's last query are skipped (causal).
  var kEnd = S;
  if (p(${W.CAUSAL}u) == 1u) { kEnd = u32(clamp(i32(min(t0 + ${owner.rows - 1}u, T - 1u)) + i32(S) - i32(T) + 1, 0, i32(S))); }`;
}

/**
 * WGSL: the start of the key pass (dK/dV): this workgroup's (batch, kv head) \`bk\` = (b, hk), the
 * group size G, its keys j0.. (this invocation's key j, \`live\` when j < S, \`jc\` clamped) and the
 * invocation's row r (and lane).
 */
export function keyTile(owner: RowOwner): string {
  return `${pieceStart(owner)}
  let HKV = p(${W.HKV}u); let G = p(${W.GROUP}u);
  let bk = o / p(${W.ROW_TILES}u);
  let b = bk / HKV; let hk = bk % HKV;
  let j0 = tile * ${owner.rows}u;
  let j = j0 + r;
  let live = j < S;
  let jc = min(j, S - 1u);`;
}

/** WGSL: the load of element (b, h, row, d) of an operand. */
export function load(name: OperandName, b: string, h: string): (row: string, d: string) => string {
  return (row, d) => `f32(ld_${name}(at4(${OPERAND[name]}u, ${b}, ${h}, ${row}, ${d})))`;
}

/** WGSL: adds a chunk's 16 partial sums \`acc\`0..3 (see accumulateTiles) to the f32 output row starting at word \`row\`, when \`live\`. */
export function addTo(live: string, row: string, acc: string): string {
  return [0, 1, 2, 3].map((a) => `add4(${live}, ${row}, c0 + lane + ${16 * a}u, ${acc}${a});`).join(' ');
}

/** The reads of a gradient kernel, in binding order: q, k, v, dO, lse, delta and the mask when there is one. */
export function gradReads(inputs: readonly TensorView[], attrs: AttentionAttrs): { name: OperandName; view: TensorView }[] {
  const names: OperandName[] = ['q', 'k', 'v', 'dO', 'lse', 'delta', ...(attrs.hasMask ? (['mask'] as const) : [])];
  return names.map((name, i) => ({ name, view: inputs[i]! }));
}

/** Uniform words of a gradient kernel whose workgroups each own `tileRows` of `rows` rows of every (batch, head) in `heads`. */
export function gradParams(name: string, reads: readonly { name: OperandName; view: TensorView }[], attrs: AttentionAttrs, heads: number, rows: number, tileRows: number): { params: Uint32Array; kind: MaskKind } {
  const [q, k] = [reads[0]!.view, reads[1]!.view];
  const params = new Uint32Array(PARAM_WORDS);
  writeSizes(params, q, k, attrs);
  const mask = reads.find((r) => r.name === 'mask');
  const kind = maskKind(name, mask?.view, [q.shape[0]!, q.shape[1]!, q.shape[2]!, k.shape[2]!]);
  params[W.ROW_TILES] = Math.ceil(rows / tileRows);
  params[W.GROUPS] = q.shape[0]! * heads * params[W.ROW_TILES]!;
  for (const r of reads) writeOperand(params, r.name, r.view);
  return { params, kind };
}
