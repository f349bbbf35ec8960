// scatterAdd: out = copy(x), then every src element is added at its indexed position. Collisions
// are resolved with atomics: integer adds directly, f32 adds through a compare-exchange loop on the
// word's bits (WGSL has no float atomics). Float sums may therefore round in any order. Indices are
// clamped (a shader cannot throw); index-bounds.ts reports bad ones at the next read.
import { contiguousStrides } from '@tessera/tensor';
import { PARAM_WORDS, WORKGROUP } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { checkIndexBounds } from '../index-bounds.js';
import { bufferOf } from '../map-dispatch.js';
import { CONVERSIONS, computeType, convertExpr, loadFunction } from '../wgsl/dtype-io.js';
import { ENTRY, extraBase, INDEXING, operandBase, writeLayout } from '../wgsl/indexing.js';
import { BindingLimitError, bindingLimitMessage, boxSpan, elementShift, elementsPerBinding, fitsSpan, PIECE, planRanges, rangeSpan, windowOf, windowWord, type Binding } from '../binding-window.js';
import type { DType } from '@tessera/tensor';
import { copyKernel } from './cast.js';

const E = extraBase(3);

function source(indexDtype: DType, dtype: DType): string {
  const ct = computeType(dtype);
  const add =
    ct === 'f32'
      ? `loop {
    let old = atomicLoad(&out[d]);
    let r = atomicCompareExchangeWeak(&out[d], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
  }`
      : 'atomicAdd(&out[d], bitcast<u32>(v));';
  return `${INDEXING}
${CONVERSIONS}
@group(0) @binding(1) var<storage, read> b0: array<u32>;
@group(0) @binding(2) var<storage, read> b1: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<atomic<u32>>;
${loadFunction('in0', 'b0', indexDtype)}
${loadFunction('in1', 'b1', dtype)}
${ENTRY} {
  // One piece (binding-window.ts): index elements start .. start + count, adding only into the rows
  // rangeLo .. rangeHi along the axis that the output window holds (its first word is in operand 2's offset).
  let local = (wid.x + wid.y * nwg.x) * 64u + lidx;
  let t = p(${PIECE.start}u) + local;
  if (local >= p(${PIECE.count}u) || t >= p(0u)) { return; }
  let k = clamp(${convertExpr(`in0(offset_of(${operandBase(0)}u, t))`, indexDtype, 'i32')}, 0, i32(p(${E + 1}u)) - 1);
  if (k < i32(p(${PIECE.rangeLo}u)) || k >= i32(p(${PIECE.rangeHi}u))) { return; }
  let v = in1(offset_of(${operandBase(1)}u, t));
  let d = offset_of(${operandBase(2)}u, t) + u32(k) * p(${E}u);
  ${add}
}
`;
}

/** Adds src into a copy of x at `index` along `axis`. */
export const scatterAddKernel: GpuKernel<{ axis: number }> = (ctx, [x, index, src], { axis }, out) => {
  const buffer = copyKernel(ctx, [x!], undefined, out);
  const n = index!.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return buffer;
  checkIndexBounds(ctx, 'scatterAdd', index!, axis, x!.shape[axis]!);
  const outStrides = contiguousStrides(x!.shape);
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(
    params,
    index!.shape,
    [
      { offset: index!.offset, strides: index!.strides },
      { offset: src!.offset, strides: src!.strides },
      { offset: 0, strides: outStrides.map((s, i) => (i === axis ? 0 : s)) },
    ],
    'scatterAdd',
  );
  params[E] = outStrides[axis]!;
  params[E + 1] = x!.shape[axis]!;
  const pipeline = ctx.pipelines.get(`scatterAdd:${index!.dtype}:${src!.dtype}`, 2, () => source(index!.dtype, src!.dtype));
  const size = x!.shape[axis]!;
  const piece = (reads: [Binding, Binding], write: Binding, e0: number, e1: number, r0: number, r1: number): void => {
    const p = params.slice();
    p[operandBase(0)] = (index!.offset - elementShift(reads[0], index!.dtype)) >>> 0;
    p[operandBase(1)] = (src!.offset - elementShift(reads[1], src!.dtype)) >>> 0;
    p[operandBase(2)] = -windowWord(write) >>> 0;
    p[PIECE.start] = e0;
    p[PIECE.count] = e1 - e0;
    p[PIECE.rangeLo] = r0;
    p[PIECE.rangeHi] = r1;
    ctx.dispatch(pipeline, reads, write, p, Math.ceil((e1 - e0) / WORKGROUP));
  };
  const [ib, sb] = [bufferOf(index!), bufferOf(src!)];
  if ([ib, sb, buffer].every((b) => b.size <= ctx.maxBindingBytes)) {
    piece([ib, sb], buffer, 0, n, 0, size);
    return buffer;
  }
  // Larger than a binding (an embedding gradient): one pass per window of output rows along the axis,
  // each over pieces of index/src whose windows fit; a pass adds only the elements indexing its rows.
  const rows = (r0: number, r1: number) => boxSpan(0, outStrides, x!.shape.map((_, d) => (d === axis ? r0 : 0)), x!.shape.map((m, d) => (d === axis ? r1 - r0 : m)));
  const rowRanges = planRanges(size, 1, size, (r0, r1) => {
    const [lo, hi] = rows(r0, r1);
    return fitsSpan(ctx, out.dtype, hi - lo + 1);
  });
  const inputs = (e0: number, e1: number): [Binding, Binding] | null => {
    const i = windowOf(ctx, ib, index!.dtype, ...rangeSpan(index!.shape, index!.strides, index!.offset, e0, e1));
    const v = windowOf(ctx, sb, src!.dtype, ...rangeSpan(index!.shape, src!.strides, src!.offset, e0, e1));
    return i && v ? [i, v] : null;
  };
  const pieces = planRanges(n, 1, elementsPerBinding(ctx, 'f32'), (e0, e1) => inputs(e0, e1) !== null);
  if (!rowRanges || !pieces) throw new BindingLimitError(bindingLimitMessage('scatterAdd', `input [${x!.shape.join(',')}] ${x!.dtype} with index [${index!.shape.join(',')}] along axis ${axis}`, buffer.size, ctx));
  for (const [r0, r1] of rowRanges) {
    const write = windowOf(ctx, buffer, out.dtype, ...rows(r0, r1))!;
    for (const [e0, e1] of pieces) piece(inputs(e0, e1)!, write, e0, e1, r0, r1);
  }
  return buffer;
};
