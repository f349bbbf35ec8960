// The generator behind the fused layerNorm and rmsNorm kernels: one workgroup per row of the last
// dim, statistics reduced in workgroup memory in f32, weight and bias read through their strides.
// Parameter words: operand 0 = x over the kept dims, operand 1 = the contiguous output, then
// D, x's last stride, eps, weight offset/stride, bias offset/stride.
import type { DType } from '@tessera/tensor';
import { CONVERSIONS, convertExpr, encodeExpr, loadFunction } from './dtype-io.js';
import { extraBase, INDEXING, operandBase } from './indexing.js';
import { SCALAR_FUNCTIONS } from './scalar-functions.js';
import { WORKGROUP_SUM } from './workgroup-sum.js';

/** Word index of the row-norm parameters after the two operands. */
export const ROW_NORM_BASE = extraBase(2);
const E = ROW_NORM_BASE;

/** What a row-norm shader computes. */
export interface RowNormSpec {
  readonly kind: 'layer' | 'rms';
  readonly x: DType;
  readonly weight?: DType;
  readonly bias?: DType;
  readonly out: DType;
}

/** WGSL expression rounding an f32 to `dtype`'s precision and back (what storing it would keep). */
export function roundedTo(dtype: DType, v: string): string {
  if (dtype === 'f16') return `unpack2x16float(f32_to_f16(${v})).x`;
  if (dtype === 'bf16') return `bitcast<f32>(f32_to_bf16(${v}) << 16u)`;
  if (dtype === 'f32' || dtype === 'f64') return v;
  return `f32(${convertExpr(v, 'f32', dtype)})`;
}

/** WGSL source of a fused row normalisation. */
export function rowNormSource({ kind, x, weight, bias, out }: RowNormSpec): string {
  const reads = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const decls = reads.map((d, k) => `@group(0) @binding(${k + 1}) var<storage, read> b${k}: array<u32>;\n${loadFunction(`in${k}`, `b${k}`, d)}`).join('\n');
  const ld = (k: number, dtype: DType, e: string) => convertExpr(`in${k}(${e})`, dtype, 'f32');
  // rmsNorm rounds the normalised value to x's dtype before the weight, as its decomposition casts back.
  let y = kind === 'layer' ? '(v - mu) * inv' : roundedTo(x, 'v * inv');
  if (weight) y = `(${y}) * ${ld(1, weight, `p(${E + 3}u) + r * p(${E + 4}u)`)}`;
  if (bias) y = `(${y}) + ${ld(weight ? 2 : 1, bias, `p(${E + 5}u) + r * p(${E + 6}u)`)}`;
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${decls}
@group(0) @binding(${reads.length + 1}) var<storage, read_write> out: array<u32>;
${WORKGROUP_SUM}
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p(0u);
  let row = min(o, p(0u) - 1u);
  let xb = offset_of(${operandBase(0)}u, row);
  let ob = offset_of(${operandBase(1)}u, row);
  let n = select(0u, p(${E}u), valid);
  let xs = p(${E + 1}u);
  let count = f32(p(${E}u));
  var acc = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { let v = ${ld(0, x, 'xb + r * xs')}; acc = acc + ${kind === 'layer' ? 'v' : 'v * v'}; }
  ${kind === 'layer' ? `let mu0 = row_sum(lidx, acc) / count;
  // A second pass corrects the mean's rounding: in a constant row x - mean must be exactly 0,
  // or 1/sqrt(eps) (~316) amplifies the residue.
  var accd = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { accd = accd + (${ld(0, x, 'xb + r * xs')} - mu0); }
  let mu = mu0 + row_sum(lidx, accd) / count;
  var acc2 = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { let c = ${ld(0, x, 'xb + r * xs')} - mu; acc2 = acc2 + c * c; }
  let inv = 1.0 / sqrt(row_sum(lidx, acc2) / count + pf(${E + 2}u));` : `let inv = 1.0 / sqrt(row_sum(lidx, acc) / count + pf(${E + 2}u));`}
  for (var r = lidx; r < n; r = r + 64u) {
    let v = ${ld(0, x, 'xb + r * xs')};
    out[ob + r] = ${encodeExpr(out, y)};
  }
}
`;
}
