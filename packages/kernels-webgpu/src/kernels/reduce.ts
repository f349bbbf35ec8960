// sum, max and min over any set of axes: one 64-invocation workgroup per output element, each
// invocation folding a strided share of the reduced elements, then a tree in workgroup memory.
// Outputs are 32-bit (packed output dtypes are widened by the backend and cast afterwards).
import { OPS, type DType, type OpDef, type ReduceAttrs } from '@tessera/tensor';
import { BindingLimitError, bindingLimitMessage, elementShift, elementsPerBinding, fitsSpan, PIECE, planRanges, rangeSpan, windowOf, windowWord, type Binding } from '../binding-window.js';
import { PARAM_WORDS } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { bufferOf, bufferView } from '../map-dispatch.js';
import { CONVERSIONS, computeType, convertExpr, encodeExpr, loadFunction, storageBytes, type ComputeType } from '../wgsl/dtype-io.js';
import { extraBase, INDEXING, MAX_RANK, writeLayout } from '../wgsl/indexing.js';
import { SCALAR_FUNCTIONS } from '../wgsl/scalar-functions.js';

interface Fold {
  init: Record<ComputeType, string>;
  /** WGSL combining accumulator `a` with value `x`. */
  step: Record<ComputeType, string>;
}

const NEG_INF = '-inf_f32()';
const POS_INF = 'inf_f32()';

// A NaN wins and then stays, as in PyTorch.
const FOLDS = new Map<OpDef, Fold>([
  [OPS.sum, { init: { f32: '0.0', i32: '0', u32: '0u' }, step: { f32: 'a + x', i32: 'a + x', u32: 'a + x' } }],
  [
    OPS.max,
    {
      init: { f32: NEG_INF, i32: 'i32(-2147483648)', u32: '0u' },
      step: { f32: 'select(select(a, x, x > a), x, is_nan(x))', i32: 'max(a, x)', u32: 'max(a, x)' },
    },
  ],
  [
    OPS.min,
    {
      init: { f32: POS_INF, i32: '2147483647', u32: '0xffffffffu' },
      step: { f32: 'select(select(a, x, x < a), x, is_nan(x))', i32: 'min(a, x)', u32: 'min(a, x)' },
    },
  ],
]);

const E = extraBase(1);

/** WGSL: the storage offset of reduced element r (its strides start at E + MAX_RANK). */
export const REDUCED_OFFSET = /* wgsl */ `
fn reduced_offset(r: u32) -> u32 {
  var rem = r;
  var off = 0u;
  for (var d = i32(p(3u)) - 1; d >= 0; d--) {
    let s = p(${E}u + u32(d));
    off = off + (rem % s) * p(${E + MAX_RANK}u + u32(d));
    rem = rem / s;
  }
  return off;
}`;

/** Parameter words of a reduction: kept dims as the iteration shape, reduced dims after. */
export function reduceParams(x: { shape: readonly number[]; strides: readonly number[]; offset: number }, axes: readonly number[], where: string): { params: Uint32Array; outCount: number; count: number } {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(params, kept.map((i) => x.shape[i]!), [{ offset: x.offset, strides: kept.map((i) => x.strides[i]!) }], where);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  params[2] = count;
  params[3] = axes.length;
  axes.forEach((a, j) => {
    params[E + j] = x.shape[a]!;
    params[E + MAX_RANK + j] = x.strides[a]! >>> 0;
  });
  return { params, outCount: params[0]!, count };
}

function source(fold: Fold, inDtype: DType, outDtype: DType): string {
  const ct = computeType(outDtype);
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${REDUCED_OFFSET}
@group(0) @binding(1) var<storage, read> b0: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${loadFunction('in0', 'b0', inDtype)}
var<workgroup> partial: array<${ct}, 64>;
fn fold(a: ${ct}, x: ${ct}) -> ${ct} { return ${fold.step[ct]}; }
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  // One piece (binding-window.ts): outputs start .. start + count over reduced elements rangeLo .. rangeHi.
  let local = wid.x + wid.y * nwg.x;
  let o = p(${PIECE.start}u) + local;
  let valid = local < p(${PIECE.count}u) && o < p(0u);
  let base = offset_of(${4 + MAX_RANK}u, min(o, p(0u) - 1u));
  var a: ${ct} = ${fold.init[ct]};
  if (valid) {
    for (var r = p(${PIECE.rangeLo}u) + lidx; r < p(${PIECE.rangeHi}u); r = r + 64u) { a = fold(a, ${convertExpr('in0(base + reduced_offset(r))', inDtype, outDtype)}); }
  }
  partial[lidx] = a;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lidx < s) { partial[lidx] = fold(partial[lidx], partial[lidx + s]); }
    workgroupBarrier();
  }
  if (lidx == 0u && valid) { out[o * p(${PIECE.outStride}u) - p(${PIECE.outShift}u)] = ${encodeExpr(outDtype, 'partial[0]')}; }
}
`;
}

/** The kernel of one reduction (sum, max or min). */
export function reduceKernel(op: OpDef): GpuKernel<ReduceAttrs> {
  const fold = FOLDS.get(op)!;
  const kernel: GpuKernel<ReduceAttrs> = (ctx, [x], { axes }, out) => {
    const { params, outCount, count } = reduceParams(x!, axes, op.name);
    const buffer = ctx.acquire(storageBytes(out.dtype, outCount));
    if (outCount === 0) return buffer;
    const pipeline = ctx.pipelines.get(`reduce:${op.name}:${x!.dtype}:${out.dtype}`, 1, () => source(fold, x!.dtype, out.dtype));
    const xb = bufferOf(x!);
    const piece = (input: Binding, output: Binding, o0: number, o1: number, r0: number, r1: number, outShift: number, outStride = 1): void => {
      const p = params.slice();
      p[4 + MAX_RANK] = (x!.offset - elementShift(input, x!.dtype)) >>> 0;
      p[PIECE.start] = o0;
      p[PIECE.count] = o1 - o0;
      p[PIECE.rangeLo] = r0;
      p[PIECE.rangeHi] = r1;
      p[PIECE.outShift] = outShift >>> 0;
      p[PIECE.outStride] = outStride;
      ctx.dispatch(pipeline, [input], output, p, o1 - o0);
    };
    if (xb.size <= ctx.maxBindingBytes && buffer.size <= ctx.maxBindingBytes) {
      piece(xb, buffer, 0, outCount, 0, count, 0);
      return buffer;
    }
    // Pieces of outputs (and, when one output's reduced elements exceed a window, of the reduced range).
    const kept = x!.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const keptShape = kept.map((i) => x!.shape[i]!);
    const keptStrides = kept.map((i) => x!.strides[i]!);
    const redShape = axes.map((a) => x!.shape[a]!);
    const redStrides = axes.map((a) => x!.strides[a]!);
    const inputWindow = (o0: number, o1: number, r0: number, r1: number): Binding | null => {
      const [k0, k1] = rangeSpan(keptShape, keptStrides, x!.offset, o0, o1);
      const [s0, s1] = rangeSpan(redShape, redStrides, 0, r0, r1);
      return windowOf(ctx, xb, x!.dtype, k0 + s0, k1 + s1);
    };
    // Outputs o0 .. o1 written at o * stride + first of `target`.
    const outputsOf = (target: GPUBuffer, first: number, stride: number, r0: number, r1: number) =>
      planRanges(outCount, 1, elementsPerBinding(ctx, out.dtype), (o0, o1) => inputWindow(o0, o1, r0, r1) !== null && windowOf(ctx, target, out.dtype, o0 * stride + first, (o1 - 1) * stride + first) !== null);
    const whole = outputsOf(buffer, 0, 1, 0, count);
    if (whole) {
      for (const [o0, o1] of whole) {
        const w = windowOf(ctx, buffer, out.dtype, o0, o1 - 1)!;
        piece(inputWindow(o0, o1, 0, count)!, w, o0, o1, 0, count, windowWord(w));
      }
      return buffer;
    }
    // Each output's reduced elements span more than a window: fold ranges of them into partials laid
    // out (outputs, pieces), so each output's partials are contiguous, then fold those with this same
    // kernel (far fewer of them: it converges).
    const ranges = planRanges(count, 1, count, (r0, r1) => {
      const [a, b] = rangeSpan(redShape, redStrides, 0, r0, r1);
      return fitsSpan(ctx, x!.dtype, b - a + 1);
    });
    if (!ranges) throw new BindingLimitError(bindingLimitMessage(op.name, `input [${x!.shape.join(',')}] ${x!.dtype} reduced over axes [${axes.join(',')}]`, xb.size, ctx));
    const pieces = ranges.length;
    const partials = ctx.acquire(storageBytes(out.dtype, pieces * outCount));
    ranges.forEach(([r0, r1], j) => {
      const outputs = outputsOf(partials, j, pieces, r0, r1);
      if (!outputs) throw new BindingLimitError(bindingLimitMessage(op.name, `input [${x!.shape.join(',')}] ${x!.dtype} reduced over axes [${axes.join(',')}]`, xb.size, ctx));
      for (const [o0, o1] of outputs) {
        const w = windowOf(ctx, partials, out.dtype, o0 * pieces + j, (o1 - 1) * pieces + j)!;
        piece(inputWindow(o0, o1, r0, r1)!, w, o0, o1, r0, r1, windowWord(w) - j, pieces);
      }
    });
    ctx.release(buffer);
    const folded = kernel(ctx, [bufferView(partials, out.dtype, [outCount, pieces])], { axes: [1], keepDims: false }, { shape: [outCount], dtype: out.dtype });
    ctx.release(partials);
    return folded;
  };
  return kernel;
}
