// Dispatches a fused row gradient (wgsl/row-grad-shader.ts): one workgroup per row along `axis`.
import { contiguousStrides, type OutputSpec, type TensorView } from '@tessera/tensor';
import { PARAM_WORDS, type GpuContext } from './gpu-context.js';
import { bufferOf, f32Bits } from './map-dispatch.js';
import { storageBytes } from './wgsl/dtype-io.js';
import { writeLayout } from './wgsl/indexing.js';
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
  const reads = [x, dy, ...(weight ? [weight] : [])];
  const pipeline = ctx.pipelines.get(`rowGrad:${JSON.stringify(spec)}`, reads.length, () => rowGradSource(spec));
  ctx.dispatch(pipeline, reads.map(bufferOf), buffer, params, params[0]!);
  return buffer;
}
