// The generator behind the fused backward kernels of softmax, logSoftmax, layerNorm and rmsNorm: one
// workgroup per row, the row statistics (max and sum of exponentials; mean and rstd) recomputed from
// x in f32, then one reduction of dy against them, then the row of dx written. Nothing but scalars is
// kept between passes. Parameter words: operand 0 = x, 1 = dy, 2 = the contiguous output, each over
// the kept dims; then the row length, the row strides of x, dy and the output, eps, and the weight's
// offset and stride.
import type { DType } from '@tessera/tensor';
import { CONVERSIONS, convertExpr, encodeExpr, loadFunction } from './dtype-io.js';
import { extraBase, INDEXING, operandBase } from './indexing.js';
import { roundedTo } from './row-norm-shader.js';
import { SCALAR_FUNCTIONS } from './scalar-functions.js';
import { WORKGROUP_SUM } from './workgroup-sum.js';

/** Word index of the row-gradient parameters after the three operands. */
export const ROW_GRAD_BASE = extraBase(3);
const E = ROW_GRAD_BASE;

/** Which gradient a row-gradient shader computes. */
export type RowGradKind = 'softmax' | 'logSoftmax' | 'layerNorm' | 'rmsNorm';

/** What a row-gradient shader computes, and the dtypes it reads and writes. */
export interface RowGradSpec {
  readonly kind: RowGradKind;
  readonly x: DType;
  readonly dy: DType;
  readonly weight?: DType;
  readonly out: DType;
}

/** WGSL of the passes computing the row statistics and the value written at column r. */
function body({ kind, x, weight }: RowGradSpec, enc: (v: string) => string): string {
  const g = weight ? 'dyv(r) * wv(r)' : 'dyv(r)';
  switch (kind) {
    case 'softmax':
      // s = exp(x - max) / total; dx = s * (dy - sum(dy * s))
      return `let mx = row_max(lidx, n);
  mx_saved = mx;
  let total = row_sum_of(lidx, n, 0u);
  let dot = row_sum_of(lidx, n, 1u) / total;
  for (var r = lidx; r < n; r = r + 64u) { out[ob + r * os] = ${enc('exp(xv(r) - mx) / total * (dyv(r) - dot)')}; }`;
    case 'logSoftmax':
      // dx = dy - softmax(x) * sum(dy)
      return `let mx = row_max(lidx, n);
  mx_saved = mx;
  let total = row_sum_of(lidx, n, 0u);
  let sdy = row_sum_of(lidx, n, 2u);
  for (var r = lidx; r < n; r = r + 64u) { out[ob + r * os] = ${enc('dyv(r) - exp(xv(r) - mx) / total * sdy')}; }`;
    case 'layerNorm':
      // The mean with the forward kernel's correction pass, so a constant row centres to exactly 0.
      return `let mu0 = row_sum_of(lidx, n, 3u) / count;
  let mu = mu0 + row_sum_c(lidx, n, mu0) / count;
  let rstd = 1.0 / sqrt(row_var(lidx, n, mu) / count + pf(${E + 4}u));
  var a = 0.0;
  var b = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { let g = ${g}; a = a + g; b = b + g * (xv(r) - mu) * rstd; }
  let sa = row_sum(lidx, a) / count;
  let sb = row_sum(lidx, b) / count;
  for (var r = lidx; r < n; r = r + 64u) {
    let g = ${g};
    out[ob + r * os] = ${enc('rstd * (g - sa - (xv(r) - mu) * rstd * sb)')};
  }`;
    case 'rmsNorm':
      // As the decomposition: g = dy * weight rounded to x's dtype (the casts' gradients), f32 math, one final rounding.
      return `let rstd = 1.0 / sqrt(row_var(lidx, n, 0.0) / count + pf(${E + 4}u));
  var b = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { b = b + ${roundedTo(x, g)} * xv(r) * rstd; }
  let sb = row_sum(lidx, b) / count;
  for (var r = lidx; r < n; r = r + 64u) {
    out[ob + r * os] = ${enc(`rstd * (${roundedTo(x, g)} - xv(r) * rstd * sb)`)};
  }`;
  }
}

/** WGSL source of a fused row gradient. */
export function rowGradSource(spec: RowGradSpec): string {
  const { x, dy, weight, out } = spec;
  const reads = [x, dy, ...(weight ? [weight] : [])];
  const decls = reads.map((d, k) => `@group(0) @binding(${k + 1}) var<storage, read> b${k}: array<u32>;\n${loadFunction(`in${k}`, `b${k}`, d)}`).join('\n');
  const weightFn = weight ? `fn wv(r: u32) -> f32 { return ${convertExpr(`in2(p(${E + 5}u) + r * p(${E + 6}u))`, weight, 'f32')}; }` : '';
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${decls}
@group(0) @binding(${reads.length + 1}) var<storage, read_write> out: array<u32>;
var<private> xb: u32;
var<private> db: u32;
fn xv(r: u32) -> f32 { return ${convertExpr(`in0(xb + r * p(${E + 1}u))`, x, 'f32')}; }
fn dyv(r: u32) -> f32 { return ${convertExpr(`in1(db + r * p(${E + 2}u))`, dy, 'f32')}; }
${weightFn}
${WORKGROUP_SUM}
// The row max, NaN-propagating as the max reduction is.
fn row_max(lidx: u32, n: u32) -> f32 {
  var m = -inf_f32();
  for (var r = lidx; r < n; r = r + 64u) { let v = xv(r); m = select(select(m, v, v > m), v, is_nan(v)); }
  workgroupBarrier();
  partial[lidx] = m;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lidx < s) { let a = partial[lidx]; let b = partial[lidx + s]; partial[lidx] = select(select(a, b, b > a), b, is_nan(b)); }
    workgroupBarrier();
  }
  return partial[0];
}
var<private> mx_saved: f32;
// Sums over the row: 0 = exp(x - max), 1 = dy * exp(x - max), 2 = dy, 3 = x (mx_saved holds the max).
fn row_sum_of(lidx: u32, n: u32, what: u32) -> f32 {
  var acc = 0.0;
  for (var r = lidx; r < n; r = r + 64u) {
    switch what {
      case 0u: { acc = acc + exp(xv(r) - mx_saved); }
      case 1u: { acc = acc + dyv(r) * exp(xv(r) - mx_saved); }
      case 2u: { acc = acc + dyv(r); }
      default: { acc = acc + xv(r); }
    }
  }
  return row_sum(lidx, acc);
}
fn row_sum_c(lidx: u32, n: u32, mu: f32) -> f32 {
  var acc = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { acc = acc + (xv(r) - mu); }
  return row_sum(lidx, acc);
}
fn row_var(lidx: u32, n: u32, mu: f32) -> f32 {
  var acc = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { let c = xv(r) - mu; acc = acc + c * c; }
  return row_sum(lidx, acc);
}
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p(0u);
  let row = min(o, p(0u) - 1u);
  xb = offset_of(${operandBase(0)}u, row);
  db = offset_of(${operandBase(1)}u, row);
  let ob = offset_of(${operandBase(2)}u, row);
  let n = select(0u, p(${E}u), valid);
  let os = p(${E + 3}u);
  let count = f32(p(${E}u));
  ${body(spec, (v) => encodeExpr(out, v))}
}
`;
}
