// Dispatches a fused row normalisation (wgsl/row-norm-shader.ts) over every row of the last dim.
import { contiguousStrides, type OutputSpec, type TensorView } from '@tessera/tensor';
import { PARAM_WORDS, type GpuContext } from './gpu-context.js';
import { bufferOf, f32Bits } from './map-dispatch.js';
import { alongContiguousRows, dispatchRows, rowSpan } from './row-pieces.js';
import { storageBytes } from './wgsl/dtype-io.js';
import { operandBase, writeLayout } from './wgsl/indexing.js';
import { ROW_NORM_BASE as E, rowNormSource } from './wgsl/row-norm-shader.js';

/** Runs layerNorm or rmsNorm of x (weight, bias optional) over the last dim; returns the output buffer. */
export function runRowNorm(ctx: GpuContext, kind: 'layer' | 'rms', x: TensorView, weight: TensorView | undefined, bias: TensorView | undefined, eps: number, out: OutputSpec): GPUBuffer {
  return alongContiguousRows(ctx, x, x.shape.length - 1, out, (view, _axis, o) => rowNorm(ctx, kind, view, weight, bias, eps, o));
}

function rowNorm(ctx: GpuContext, kind: 'layer' | 'rms', x: TensorView, weight: TensorView | undefined, bias: TensorView | undefined, eps: number, out: OutputSpec): GPUBuffer {
  const name = kind === 'layer' ? 'layerNorm' : 'rmsNorm';
  const rank = x.shape.length;
  const d = x.shape[rank - 1] ?? 1;
  const n = x.shape.reduce((a, b) => a * b, 1);
  const buffer = ctx.acquire(storageBytes(out.dtype, n));
  if (n === 0) return buffer;
  const kept = x.shape.slice(0, -1);
  const outStrides = contiguousStrides(x.shape).slice(0, -1);
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(params, kept, [{ offset: x.offset, strides: x.strides.slice(0, -1) }, { offset: 0, strides: outStrides }], name);
  params[E] = d;
  params[E + 1] = (x.strides[rank - 1] ?? 0) >>> 0;
  params[E + 2] = f32Bits(eps);
  if (weight) [params[E + 3], params[E + 4]] = [weight.offset, weight.strides[0]! >>> 0];
  if (bias) [params[E + 5], params[E + 6]] = [bias.offset, bias.strides[0]! >>> 0];
  const spec = { kind, x: x.dtype, weight: weight?.dtype, bias: bias?.dtype, out: out.dtype };
  const reads = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const pipeline = ctx.pipelines.get(`${name}:${JSON.stringify(spec)}`, reads.length, () => rowNormSource(spec));
  const lastStride = x.strides[rank - 1] ?? 0;
  dispatchRows(
    ctx,
    pipeline,
    name,
    params,
    kept,
    [{ buffer: bufferOf(x), dtype: x.dtype, base: operandBase(0), offset: x.offset, strides: x.strides.slice(0, -1), row: rowSpan(d, lastStride) }, ...reads.slice(1).map(bufferOf)],
    { buffer, dtype: out.dtype, base: operandBase(1), offset: 0, strides: outStrides, row: [0, d - 1] },
  );
  return buffer;
}
