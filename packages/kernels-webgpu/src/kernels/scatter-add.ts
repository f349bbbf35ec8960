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
import { ENTRY, extraBase, FLAT_ID, INDEXING, operandBase, writeLayout } from '../wgsl/indexing.js';
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
  ${FLAT_ID}
  if (t >= p(0u)) { return; }
  let k = clamp(${convertExpr(`in0(offset_of(${operandBase(0)}u, t))`, indexDtype, 'i32')}, 0, i32(p(${E + 1}u)) - 1);
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
  ctx.dispatch(pipeline, [bufferOf(index!), bufferOf(src!)], buffer, params, Math.ceil(n / WORKGROUP));
  return buffer;
};
