// Dispatches a fused row gradient (wgsl/row-grad-shader.ts): one workgroup per row along `axis`.
import { contiguousStrides, type OutputSpec, type TensorView } from '@tessera/tensor';
import { PARAM_WORDS, type GpuContext } from './gpu-context.js';
import { bufferOf, f32Bits } from './map-dispatch.js';
import { dispatchRows, rowSpan } from './row-pieces.js';
import { storageBytes } from './wgsl/dtype-io.js';
import { operandBase, writeLayout } from './wgsl/indexing.js';
import { ROW_GRAD_BASE as E, rowGradSource, type RowGradKind } from './wgsl/row-grad-shader.js';

/** The gradient with respect to x of softmax/logSoftmax (along `axis`) or layerNorm/rmsNorm (last dim), given dy. */
export function runRowGrad(
  ctx: GpuContext,
  kind: RowGradKind,
  x: TensorView,
  dy: TensorView,
  weight: TensorView | undefined,
  axis: number,
  eps: number,
  out: OutputSpec,
): GPUBuffer {
  const name = `${kind}Backward`;
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) {
    throw new RangeError(`${name}: dy [${dy.shape.join(',')}] must have x's shape [${x.shape.join(',')}] on webgpu; expand it first`);
  }
  // As the decompositions, whose max/mean reject an empty reduction.
  if (x.shape[axis] === 0) throw new RangeError(`${name}: cannot reduce over an empty dim on webgpu (shape [${x.shape.join(',')}], axis ${axis})`);
  const n = x.shape.reduce((a, b) => a * b, 1);
  const buffer = ctx.acquire(storageBytes(out.dtype, n));
  if (n === 0) return buffer;
  const kept = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const outStrides = contiguousStrides(x.shape);
  const over = (strides: readonly number[]) => kept.map((i) => strides[i]!);
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(params, over(x.shape), [
    { offset: x.offset, strides: over(x.strides) },
    { offset: dy.offset, strides: over(dy.strides) },
    { offset: 0, strides: over(outStrides) },
  ], name);
  params[E] = x.shape[axis]!;
  params[E + 1] = x.strides[axis]! >>> 0;
  params[E + 2] = dy.strides[axis]! >>> 0;
  params[E + 3] = outStrides[axis]!;
  params[E + 4] = f32Bits(eps);
  if (weight) [params[E + 5], params[E + 6]] = [weight.offset, weight.strides[0]! >>> 0];
  const spec = { kind, x: x.dtype, dy: dy.dtype, weight: weight?.dtype, out: out.dtype };
  const pipeline = ctx.pipelines.get(`rowGrad:${JSON.stringify(spec)}`, weight ? 3 : 2, () => rowGradSource(spec));
  // Operands larger than a binding are cut into boxes of whole rows (row-pieces.ts); the weight is bound whole.
  const walked = (v: TensorView, k: number) => ({ buffer: bufferOf(v), dtype: v.dtype, base: operandBase(k), offset: v.offset, strides: over(v.strides), row: rowSpan(x.shape[axis]!, v.strides[axis]!) });
  const output = { buffer, dtype: out.dtype, base: operandBase(2), offset: 0, strides: over(outStrides), row: rowSpan(x.shape[axis]!, outStrides[axis]!) };
  dispatchRows(ctx, pipeline, name, params, over(x.shape), [walked(x, 0), walked(dy, 1), ...(weight ? [bufferOf(weight)] : [])], output);
  return buffer;
}
