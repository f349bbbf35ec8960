// Fused softmax / logSoftmax along one axis: one workgroup per row reads the row three times (max,
// sum of exponentials, output) and keeps nothing but two scalars, instead of the decomposition's five
// kernels and four full-size temporaries. Held to the decomposition by test/fused.gpu.test.ts.
import type { DType, OutputSpec, TensorView } from '@tessera/tensor';
import { contiguousStrides } from '@tessera/tensor';
import { PARAM_WORDS, type GpuContext } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { bufferOf } from '../map-dispatch.js';
import { alongContiguousRows, dispatchRows, rowSpan } from '../row-pieces.js';
import { CONVERSIONS, convertExpr, encodeExpr, loadFunction, storageBytes } from '../wgsl/dtype-io.js';
import { extraBase, INDEXING, operandBase, writeLayout } from '../wgsl/indexing.js';
import { SCALAR_FUNCTIONS } from '../wgsl/scalar-functions.js';

const E = extraBase(2);

function source(dtype: DType, log: boolean): string {
  const result = log ? '(x - mx) - log(total)' : 'exp(x - mx) / total';
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
@group(0) @binding(1) var<storage, read> b0: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${loadFunction('in0', 'b0', dtype)}
fn ld(e: u32) -> f32 { return ${convertExpr('in0(e)', dtype, 'f32')}; }
var<workgroup> partial: array<f32, 64>;
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p(0u);
  let row = min(o, p(0u) - 1u);
  let xb = offset_of(${operandBase(0)}u, row);
  let ob = offset_of(${operandBase(1)}u, row);
  let n = select(0u, p(${E}u), valid);
  let xs = p(${E + 1}u);
  let os = p(${E + 2}u);
  var m = -inf_f32();
  for (var r = lidx; r < n; r = r + 64u) {
    let x = ld(xb + r * xs);
    m = select(select(m, x, x > m), x, is_nan(x));
  }
  partial[lidx] = m;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lidx < s) { let a = partial[lidx]; let b = partial[lidx + s]; partial[lidx] = select(select(a, b, b > a), b, is_nan(b)); }
    workgroupBarrier();
  }
  let mx = partial[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var r = lidx; r < n; r = r + 64u) { acc = acc + exp(ld(xb + r * xs) - mx); }
  partial[lidx] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lidx < s) { partial[lidx] = partial[lidx] + partial[lidx + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  for (var r = lidx; r < n; r = r + 64u) {
    let x = ld(xb + r * xs);
    out[ob + r * os] = ${encodeExpr('f32', result)};
  }
}
`;
}

function rowKernel(log: boolean): GpuKernel<{ axis: number }> {
  const name = log ? 'logSoftmax' : 'softmax';
  const kernel: GpuKernel<{ axis: number }> = (ctx, [x], { axis }, out) => alongContiguousRows(ctx, x!, axis, out, (view, ax, o) => rows(ctx, view, ax, o));
  const rows = (ctx: GpuContext, view: TensorView, axis: number, out: OutputSpec): GPUBuffer => {
    // As the decomposition (whose max rejects an empty reduction), not a silent empty result.
    if (view.shape[axis] === 0) throw new RangeError(`${name}: cannot reduce over an empty dim on webgpu (shape [${view.shape.join(',')}], axis ${axis})`);
    const n = view.shape.reduce((a, b) => a * b, 1);
    const buffer = ctx.acquire(storageBytes(out.dtype, n));
    if (n === 0) return buffer;
    const kept = view.shape.map((_, i) => i).filter((i) => i !== axis);
    const outStrides = contiguousStrides(view.shape);
    const params = new Uint32Array(PARAM_WORDS);
    writeLayout(params, kept.map((i) => view.shape[i]!), [
      { offset: view.offset, strides: kept.map((i) => view.strides[i]!) },
      { offset: 0, strides: kept.map((i) => outStrides[i]!) },
    ], name);
    params[E] = view.shape[axis]!;
    params[E + 1] = view.strides[axis]! >>> 0;
    params[E + 2] = outStrides[axis]!;
    const pipeline = ctx.pipelines.get(`${name}:${view.dtype}`, 1, () => source(view.dtype, log));
    const row = (strides: readonly number[]) => ({ strides: kept.map((i) => strides[i]!), row: rowSpan(view.shape[axis]!, strides[axis]!) });
    const input = { buffer: bufferOf(view), dtype: view.dtype, base: operandBase(0), offset: view.offset, ...row(view.strides) };
    dispatchRows(ctx, pipeline, name, params, kept.map((i) => view.shape[i]!), [input], { buffer, dtype: out.dtype, base: operandBase(1), offset: 0, ...row(outStrides) });
    return buffer;
  };
  return kernel;
}

/** Fused softmax along `axis` (f32 output; packed dtypes are widened and cast by the backend). */
export const softmaxKernel = rowKernel(false);
/** Fused log-softmax along `axis`. */
export const logSoftmaxKernel = rowKernel(true);
