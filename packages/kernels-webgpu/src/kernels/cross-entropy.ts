// Fused cross-entropy over large vocabularies: one workgroup per row streams the row's C logits once
// with an online max and sum of exponentials (each invocation keeps its own running pair, merged at the
// end), so neither the softmax nor the log-probabilities are ever stored. The forward writes the
// per-position loss lse - (1 - s) x[t] - s mean(x) (0 where the target is ignored); the backward
// recomputes the row's max and sum in the same single pass, then writes
// dlogits = (softmax - ((1 - s) onehot(t) + s / C)) * g * valid directly. Held to the decompositions
// by test/fused-backward-properties.ts. A target outside [0, C) that is not ignored is reported at the
// next read or sync, as gather reports it (index-bounds.ts), and its row's loss is NaN.
import { contiguousStrides, type DType, type TensorView } from '@tessera/tensor';
import { PARAM_WORDS } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { checkIndexBounds } from '../index-bounds.js';
import { bufferOf, bufferView, f32Bits, runMap } from '../map-dispatch.js';
import { dispatchRows, rowSpan } from '../row-pieces.js';
import { CONVERSIONS, convertExpr, encodeExpr, loadFunction, storageBytes } from '../wgsl/dtype-io.js';
import { extraBase, INDEXING, operandBase, writeLayout } from '../wgsl/indexing.js';
import { SCALAR_FUNCTIONS } from '../wgsl/scalar-functions.js';

type Attrs = { ignoreIndex: number; labelSmoothing: number };

function source(logits: DType, targets: DType, g: DType | undefined, out: DType): string {
  const ops = g ? 4 : 3; // logits, targets, (g), out
  const E = extraBase(ops);
  const reads = [logits, targets, ...(g ? [g] : [])];
  const decls = reads.map((d, k) => `@group(0) @binding(${k + 1}) var<storage, read> b${k}: array<u32>;\n${loadFunction(`in${k}`, `b${k}`, d)}`).join('\n');
  const outBase = operandBase(ops - 1);
  const write = g
    ? `let scale = ${convertExpr(`in2(offset_of(${operandBase(2)}u, row))`, g, 'f32')} * select(0.0, 1.0, keep);
  let inv = 1.0 / total;
  for (var c = lidx; c < n; c = c + 64u) {
    let q = select(0.0, 1.0 - ls, i32(c) == t) + ls / count;
    out[ob + c] = ${encodeExpr(out, '(exp(xv(c) - mx) * inv - q) * scale')};
  }`
    : `if (lidx == 0u && valid) {
    let inRange = t >= 0 && t < i32(n);
    let xt = select(nan_f32(), xv(u32(max(t, 0))), inRange);
    // Without smoothing the mean term is left out, not multiplied by 0: a masked (-inf) logit makes
    // the row's sum -inf, and 0 * -inf is NaN.
    let spread = select(0.0, ls * sumx / count, ls != 0.0);
    let loss = (mx + log(total)) - (1.0 - ls) * xt - spread;
    out[ob] = ${encodeExpr(out, 'select(0.0, loss, keep)')};
  }`;
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${decls}
@group(0) @binding(${reads.length + 1}) var<storage, read_write> out: array<u32>;
var<private> xb: u32;
fn xv(c: u32) -> f32 { return ${convertExpr(`in0(xb + c * p(${E + 1}u))`, logits, 'f32')}; }
var<workgroup> pm: array<f32, 64>;
var<workgroup> ps: array<f32, 64>;
var<workgroup> px: array<f32, 64>;
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p(0u);
  let row = min(o, p(0u) - 1u);
  xb = offset_of(${operandBase(0)}u, row);
  let ob = offset_of(${outBase}u, row);
  let n = select(0u, p(${E}u), valid);
  let count = f32(p(${E}u));
  let ls = pf(${E + 3}u);
  let t = ${convertExpr(`in1(offset_of(${operandBase(1)}u, row))`, targets, 'i32')};
  let keep = t != bitcast<i32>(p(${E + 2}u));
  // One streaming pass: a running max m and sum s of exp(x - m) per invocation, rescaled when m grows.
  var m = -inf_f32();
  var s = 0.0;
  var sx = 0.0;
  for (var c = lidx; c < n; c = c + 64u) {
    let x = xv(c);
    sx = sx + x;
    // A -inf logit (a masked class) adds nothing, even before any finite one was seen.
    if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else if (x > -inf_f32()) { s = s + exp(x - m); }
    if (is_nan(x)) { m = x; }
  }
  pm[lidx] = m;
  ps[lidx] = s;
  px[lidx] = sx;
  workgroupBarrier();
  for (var h = 32u; h > 0u; h = h >> 1u) {
    if (lidx < h) {
      let ma = pm[lidx];
      let mb = pm[lidx + h];
      let mm = select(max(ma, mb), ma + mb, is_nan(ma) || is_nan(mb));
      // An invocation that saw no column has m = -inf and s = 0: it contributes nothing.
      let sa = select(ps[lidx] * exp(ma - mm), 0.0, ps[lidx] == 0.0);
      let sb = select(ps[lidx + h] * exp(mb - mm), 0.0, ps[lidx + h] == 0.0);
      pm[lidx] = mm;
      ps[lidx] = sa + sb;
      px[lidx] = px[lidx] + px[lidx + h];
    }
    workgroupBarrier();
  }
  let mx = pm[0];
  let total = ps[0];
  let sumx = px[0];
  ${write}
}
`;
}

function checkRows(name: string, logits: TensorView, targets: TensorView): void {
  const c = logits.shape[logits.shape.length - 1];
  if (c === undefined || c === 0) throw new RangeError(`${name}: logits [${logits.shape.join(',')}] need a non-empty class dim on webgpu`);
  if (targets.shape.length !== logits.shape.length - 1 || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new RangeError(`${name}: targets [${targets.shape.join(',')}] must be logits [${logits.shape.join(',')}] without the class dim`);
  }
}

function dispatch(name: string, ctx: Parameters<GpuKernel>[0], logits: TensorView, targets: TensorView, g: TensorView | undefined, attrs: Attrs, outDtype: DType, outSize: number): GPUBuffer {
  checkRows(name, logits, targets);
  const buffer = ctx.acquire(storageBytes(outDtype, outSize));
  const rows = targets.shape.reduce((a, b) => a * b, 1);
  if (outSize === 0 || rows === 0) return buffer;
  const rank = logits.shape.length;
  const kept = logits.shape.slice(0, -1);
  const c = logits.shape[rank - 1]!;
  // The output's row starts: C apart for dlogits, 1 apart for the losses.
  const outStrides = contiguousStrides(g ? logits.shape : kept).slice(0, kept.length);
  const operands = [
    { offset: logits.offset, strides: logits.strides.slice(0, -1) },
    { offset: targets.offset, strides: targets.strides },
    ...(g ? [{ offset: g.offset, strides: g.strides }] : []),
    { offset: 0, strides: outStrides },
  ];
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(params, kept, operands, name);
  const E = extraBase(operands.length);
  params[E] = c;
  params[E + 1] = logits.strides[rank - 1]! >>> 0;
  params[E + 2] = attrs.ignoreIndex >>> 0;
  params[E + 3] = f32Bits(attrs.labelSmoothing);
  const reads = [logits, targets, ...(g ? [g] : [])];
  const key = `${name}:${reads.map((v) => v.dtype).join(',')}:${outDtype}`;
  const pipeline = ctx.pipelines.get(key, reads.length, () => source(logits.dtype, targets.dtype, g?.dtype, outDtype));
  // Big logits (tokens x vocabulary) are cut into boxes of whole rows whose windows fit a binding (row-pieces.ts).
  const walked = reads.map((v, k) => ({
    buffer: bufferOf(v),
    dtype: v.dtype,
    base: operandBase(k),
    offset: operands[k]!.offset,
    strides: operands[k]!.strides,
    row: k === 0 ? rowSpan(c, logits.strides[rank - 1]!) : ([0, 0] as [number, number]),
  }));
  const output = { buffer, dtype: outDtype, base: operandBase(reads.length), offset: 0, strides: outStrides, row: g ? ([0, c - 1] as [number, number]) : ([0, 0] as [number, number]) };
  dispatchRows(ctx, pipeline, name, params, kept, walked, output);
  return buffer;
}

/** Records the check gather makes in the decomposition: every target not ignored lies in [0, C). */
function checkTargets(ctx: Parameters<GpuKernel>[0], targets: TensorView, ignoreIndex: number, c: number): void {
  if (targets.shape.reduce((a, b) => a * b, 1) === 0) return;
  // Ignored targets become 0 (always in range) in a small i32 copy, which the shared index check scans.
  const safe = runMap(ctx, {
    key: `crossEntropyTargets:${targets.dtype}`,
    spec: {
      inputs: [targets.dtype],
      out: 'i32',
      value: `let t = ${convertExpr(`in0(offset_of(${operandBase(0)}u, i))`, targets.dtype, 'i32')};
  return select(t, 0, t == bitcast<i32>(p(${extraBase(1)}u)));`,
    },
    shape: targets.shape,
    inputs: [targets],
    extra: [ignoreIndex >>> 0],
    windows: ['strided'],
    where: 'crossEntropy',
  });
  checkIndexBounds(ctx, 'crossEntropy', bufferView(safe, 'i32', targets.shape), targets.shape.length, c);
  ctx.release(safe);
}

/** Per-position losses (0 where ignored), streaming each row's logits once. */
export const crossEntropyLossesKernel: GpuKernel<Attrs> = (ctx, [logits, targets], attrs, out) => {
  checkRows('crossEntropyLosses', logits!, targets!);
  checkTargets(ctx, targets!, attrs.ignoreIndex, logits!.shape[logits!.shape.length - 1]!);
  return dispatch('crossEntropyLosses', ctx, logits!, targets!, undefined, attrs, out.dtype, out.shape.reduce((a, b) => a * b, 1));
};

/** dlogits = (softmax - q) * g * valid, from one streaming pass for the statistics and one for the write. */
export const crossEntropyBackwardKernel: GpuKernel<Attrs> = (ctx, [logits, targets, g], attrs, out) => {
  if (g!.shape.length !== targets!.shape.length || g!.shape.some((d, i) => d !== targets!.shape[i])) {
    throw new RangeError(`crossEntropyBackward: g [${g!.shape.join(',')}] must have the targets' shape [${targets!.shape.join(',')}]`);
  }
  return dispatch('crossEntropyBackward', ctx, logits!, targets!, g, attrs, out.dtype, out.shape.reduce((a, b) => a * b, 1));
};
