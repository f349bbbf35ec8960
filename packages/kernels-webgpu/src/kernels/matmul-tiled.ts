// The matmul fast path for float operands whose matrices each have one unit-stride axis (row-major
// A or Aᵀ, B or Bᵀ: every product of a training step, forward and backward). Each operand is read
// four consecutive elements at a time: as one vec4<u32> (f32) or vec2<u32> (f16/bf16, two per word)
// when its offset and strides are multiples of 4 elements, else as four scalar loads. Tiles of A and
// B go through workgroup memory as vec4s, each invocation accumulates a TM x TN register block in
// f32, and f16/bf16 are converted in registers (their products are exact in f32), so an f16 result
// is rounded once, when it is stored. With `shader-f16`, f16 operands are loaded as vec4<f16> and
// kept as f16 in workgroup memory (half the bytes per tile); the arithmetic is the same.
// Pipelines are specialised on what changes the code: dtype, f16 mode, each operand's vector axis
// and width, and the tile; shapes, offsets and strides stay uniforms.
import type { DType, TensorView } from '@tessera/tensor';
import { CONVERSIONS, encodeExpr, loadFunction } from '../wgsl/dtype-io.js';
import { INDEXING } from '../wgsl/indexing.js';
import { BATCH_OFFSETS } from './matmul-params.js';

/** Output tile BM x BN per workgroup, BK deep in k, TM x TN outputs per invocation. */
export interface MatmulTile {
  readonly name: string;
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
}

/** 64x64 tiles (16x16 invocations, 4x4 each): enough workgroups to fill a GPU on mid-sized products. */
export const TILE_64: MatmulTile = { name: '64', bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };
/** 128x128 tiles (16x16 invocations, 8x8 each): twice the arithmetic per byte of workgroup memory read. */
export const TILE_128: MatmulTile = { name: '128', bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 };

/** How one operand is read: the axis its four consecutive elements run along, and the load width. */
export interface OperandRead {
  /** True when the vector runs along the matrix's columns (row-major); false along its rows. */
  readonly alongCols: boolean;
  /** 4: one vector load (offset and strides multiples of 4); 1: four scalar loads. */
  readonly width: 4 | 1;
  /** The stride of the other axis (elements). */
  readonly outerStride: number;
}

/** Everything a tiled pipeline is specialised on. */
export interface TiledSpec {
  readonly dtype: 'f32' | 'f16' | 'bf16';
  readonly outDtype: DType;
  /** f16 operands loaded and staged as f16 (device has `shader-f16`). */
  readonly f16Native: boolean;
  readonly a: OperandRead;
  readonly b: OperandRead;
  readonly tile: MatmulTile;
}

/** Pipeline cache key of a spec. */
export function tiledKey(s: TiledSpec): string {
  const op = (o: OperandRead) => `${o.alongCols ? 'r' : 'c'}${o.width}`;
  return `matmul-tiled:${s.dtype}:${s.f16Native ? 'h' : 'u'}:${op(s.a)}:${op(s.b)}:${s.tile.name}:${s.outDtype}`;
}

/**
 * How a (rows x cols) matrix of `view` (its last two dims) and the batch strides can be read, or null
 * when neither matrix axis has unit stride (the strided kernel serves it). `vectorBindable`: the
 * binding's size is a whole number of vectors (whole pooled buffers are; a binding window may not be).
 */
export function operandRead(view: TensorView, batchStrides: readonly number[], vectorBindable = true): OperandRead | null {
  const r = view.shape.length;
  const rows = view.shape[r - 2]!;
  const cols = view.shape[r - 1]!;
  // A size-1 axis never advances, so its stride is free.
  const rs = rows === 1 ? 0 : view.strides[r - 2]!;
  const cs = cols === 1 ? 0 : view.strides[r - 1]!;
  const colsUnit = cs === 1 || cols === 1;
  const rowsUnit = rs === 1 || rows === 1;
  // Prefer the axis with more than one element: a (5 x 1) column read along its rows is one vector.
  let read: { alongCols: boolean; outerStride: number };
  if (colsUnit && (cols > 1 || !rowsUnit)) read = { alongCols: true, outerStride: rs };
  else if (rowsUnit) read = { alongCols: false, outerStride: cs };
  else return null;
  if (read.outerStride < 0 || view.offset < 0 || batchStrides.some((s) => s < 0)) return null;
  const aligned = vectorBindable && [view.offset, read.outerStride, ...batchStrides].every((x) => x % 4 === 0);
  return { ...read, width: aligned ? 4 : 1 };
}

const LANES = [0, 1, 2, 3];

/** WGSL of the binding and `fn load<X>(e, valid) -> vec4<S>` reading elements e..e+3 of one operand. */
function operandIo(name: 'A' | 'B', binding: number, spec: TiledSpec, read: OperandRead, st: string): string {
  const buf = `b${name.toLowerCase()}`;
  const fn = `load${name}`;
  const zero = `vec4<${st}>(0.0)`;
  if (read.width === 1) {
    // Four scalar loads, each guarded: elements past the edge may lie past the buffer.
    const lanes = LANES.map((c) => `  if (valid[${c}]) { v[${c}] = ${st}(${fn}1(e + ${c}u)); }`).join('\n');
    return `@group(0) @binding(${binding}) var<storage, read> ${buf}: array<u32>;
${loadFunction(`${fn}1`, buf, spec.dtype)}
fn ${fn}(e: u32, valid: vec4<bool>) -> vec4<${st}> {
  var v = ${zero};
${lanes}
  return v;
}`;
  }
  let decl: string;
  let value: string;
  if (spec.dtype === 'f32') {
    decl = 'array<vec4<u32>>';
    value = `bitcast<vec4<f32>>(${buf}[e >> 2u])`;
  } else if (spec.dtype === 'f16' && spec.f16Native) {
    decl = 'array<vec4<f16>>';
    value = `${buf}[e >> 2u]`;
  } else if (spec.dtype === 'f16') {
    decl = 'array<vec2<u32>>';
    value = `vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y))`;
  } else {
    decl = 'array<vec2<u32>>';
    value = `bitcast<vec4<f32>>(vec4<u32>(w.x << 16u, w.x & 0xffff0000u, w.y << 16u, w.y & 0xffff0000u))`;
  }
  const word = decl === 'array<vec2<u32>>' ? `  let w = ${buf}[e >> 2u];\n` : '';
  // The aligned vector lies inside the buffer (buffers are whole multiples of 16 bytes) even where
  // some lanes are past the matrix edge; select drops those lanes (they may hold NaN).
  return `@group(0) @binding(${binding}) var<storage, read> ${buf}: ${decl};
fn ${fn}(e: u32, valid: vec4<bool>) -> vec4<${st}> {
  if (!any(valid)) { return ${zero}; }
${word}  return select(${zero}, ${value}, valid);
}`;
}

/**
 * WGSL staging `loads` vectors of one operand into its workgroup tile (k-major: `tile[k * W + x/4]`,
 * x running along M for A and N for B). `outer` names the non-k extent (M or N).
 */
function stageTile(name: 'A' | 'B', read: OperandRead, tile: MatmulTile): string {
  const { bk } = tile;
  const extent = name === 'A' ? tile.bm : tile.bn; // tile extent along M (A) or N (B)
  const threads = (tile.bm / tile.tm) * (tile.bn / tile.tn);
  const loads = (extent * bk) / 4 / threads;
  const limit = name === 'A' ? 'M' : 'N';
  const origin = name === 'A' ? 'row0' : 'col0';
  const off = `${name.toLowerCase()}Off`;
  const ld = `${name.toLowerCase()}Ld`;
  const t = `${name}s`;
  // A's rows are M and columns K; B's rows are K and columns N. "alongK" says the vector runs along k.
  const alongK = name === 'A' ? read.alongCols : !read.alongCols;
  const out: string[] = [];
  for (let l = 0; l < loads; l++) {
    const idx = `tid + ${l * threads}u`;
    if (alongK) {
      out.push(`  {
    let x = (${idx}) / ${bk / 4}u; let kq = ((${idx}) % ${bk / 4}u) * 4u;
    let gx = ${origin} + x; let gk = k0 + kq;
    let valid = (vec4<u32>(gk) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(K)) & vec4<bool>(gx < ${limit});
    let v = load${name}(${off} + gx * ${ld} + gk, valid);
${LANES.map((c) => `    ${t}[(kq + ${c}u) * ${extent / 4}u + x / 4u][x & 3u] = v[${c}];`).join('\n')}
  }`);
    } else {
      out.push(`  {
    let k = (${idx}) / ${extent / 4}u; let xq = ((${idx}) % ${extent / 4}u) * 4u;
    let gx = ${origin} + xq; let gk = k0 + k;
    let valid = (vec4<u32>(gx) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(${limit})) & vec4<bool>(gk < K);
    ${t}[k * ${extent / 4}u + xq / 4u] = load${name}(${off} + gk * ${ld} + gx, valid);
  }`);
    }
  }
  return out.join('\n');
}

/** The WGSL source of a tiled pipeline. */
export function tiledSource(spec: TiledSpec): string {
  const { tile } = spec;
  const { bm, bn, bk, tm, tn } = tile;
  const wx = bn / tn;
  const wy = bm / tm;
  const st = spec.dtype === 'f16' && spec.f16Native ? 'f16' : 'f32';
  const us = Array.from({ length: tm / 4 }, (_, u) => u);
  const vs = Array.from({ length: tn / 4 }, (_, v) => v);
  const rows = us.flatMap((u) => LANES.map((i) => ({ u, i, r: u * 4 + i })));
  const acc = (r: number, v: number) => `acc${r}_${v}`;
  const step = [
    ...us.map((u) => `      let a${u} = vec4<f32>(As[kk * ${bm / 4}u + ${u * wy}u + lid.y]);`),
    ...vs.map((v) => `      let b${v} = vec4<f32>(Bs[kk * ${bn / 4}u + ${v * wx}u + lid.x]);`),
    ...rows.flatMap(({ u, i, r }) => vs.map((v) => `      ${acc(r, v)} = fma(vec4<f32>(a${u}[${i}]), b${v}, ${acc(r, v)});`)),
  ].join('\n');
  const stores = rows
    .map(({ u, i, r }) => {
      const cols = vs
        .map((v) => {
          const lanes = LANES.map((j) => `      if (c${v} + ${j}u < N) { out[o + c${v} + ${j}u] = ${encodeExpr(spec.outDtype, `${acc(r, v)}[${j}]`)}; }`).join('\n');
          return lanes;
        })
        .join('\n');
      return `  { let r = row0 + (${u * wy}u + lid.y) * 4u + ${i}u;
    if (r < M) {
      let o = outBase + r * N;
${cols}
    } }`;
    })
    .join('\n');
  return `${spec.dtype === 'f16' && spec.f16Native ? 'enable f16;\n' : ''}${INDEXING}
${CONVERSIONS}
${operandIo('A', 1, spec, spec.a, st)}
${operandIo('B', 2, spec, spec.b, st)}
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
${BATCH_OFFSETS}
var<workgroup> As: array<vec4<${st}>, ${(bk * bm) / 4}>;
var<workgroup> Bs: array<vec4<${st}>, ${(bk * bn) / 4}>;
@compute @workgroup_size(${wx}, ${wy}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p(0u); let N = p(1u); let K = p(2u);
  let offs = batch_offsets(wid.z);
  let aOff = offs.x;
  let bOff = offs.y;
  let aLd = p(${spec.a.alongCols ? 17 : 18}u);
  let bLd = p(${spec.b.alongCols ? 26 : 27}u);
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bn}u;
  let tid = lid.y * ${wx}u + lid.x;
${rows.flatMap(({ r }) => vs.map((v) => `  var ${acc(r, v)} = vec4<f32>(0.0);`)).join('\n')}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${bk}u) {
${stageTile('A', spec.a, tile)}
${stageTile('B', spec.b, tile)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk = kk + 1u) {
${step}
    }
    workgroupBarrier();
  }
  let outBase = wid.z * M * N;
${vs.map((v) => `  let c${v} = col0 + (${v * wx}u + lid.x) * 4u;`).join('\n')}
${stores}
}
`;
}
