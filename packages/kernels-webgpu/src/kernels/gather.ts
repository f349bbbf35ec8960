// torch.gather: out[p] = x[p with p[axis] replaced by index[p]]. The walk runs over the index's
// shape; x is addressed with stride 0 on `axis` plus the looked-up index times the axis stride.
// Indices are clamped into range (a shader cannot throw); index-bounds.ts reports bad ones at the next read.
import type { OutputSpec, TensorView } from '@tessera/tensor';
import { BindingLimitError, bindingLimitMessage, boxSpan, fitsSpan, planRanges } from '../binding-window.js';
import type { GpuContext } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { checkIndexBounds } from '../index-bounds.js';
import { bufferOf, bufferView, runMap } from '../map-dispatch.js';
import { rowSpan } from '../row-pieces.js';
import { convertExpr, storageBytes } from '../wgsl/dtype-io.js';
import { extraBase, operandBase } from '../wgsl/indexing.js';
import { copyKernel } from './cast.js';

const E = extraBase(2);

/** Picks elements of x along `axis` at the positions in `index`. */
export const gatherKernel: GpuKernel<{ axis: number }> = (ctx, [x, index], { axis }, out) => {
  checkIndexBounds(ctx, 'gather', index!, axis, x!.shape[axis]!);
  return gatherFrom(ctx, x!, index!, axis, out);
};

/** The gather itself, after the index check (recursing on a contiguous copy must not check twice). */
function gatherFrom(ctx: GpuContext, x: TensorView, index: TensorView, axis: number, out: OutputSpec): GPUBuffer {
  const xStrides = x.strides.map((s, i) => (i === axis ? 0 : s));
  const lookup = `let k = clamp(${convertExpr(`in0(offset_of(${operandBase(0)}u, i))`, index.dtype, 'i32')}, 0, i32(p(${E + 1}u)) - 1);`;
  const read = `in1(offset_of(${operandBase(1)}u, i) + u32(k) * p(${E}u))`;
  const call = {
    shape: out.shape,
    inputs: [index, x],
    strides: [index.strides, xStrides],
    where: 'gather',
  };
  const size = x.shape[axis]!;
  const rows = (r0: number, r1: number): [number, number] => viewSpan(x, axis, r0, r1);
  // Each output reads one slice along the axis: x is windowed like a strided operand widened by that
  // slice (cross-entropy's pick of the target logit from each row of big logits).
  const extent = rowSpan(size, x.strides[axis]!);
  if (bufferOf(x).size <= ctx.maxBindingBytes || size === 0 || fitsSpan(ctx, x.dtype, extent[1] - extent[0] + 1)) {
    return runMap(ctx, {
      ...call,
      key: `gather:${x.dtype}:${index.dtype}`,
      spec: { inputs: [index.dtype, x.dtype], out: out.dtype, value: `${lookup}\n  return ${read};` },
      extra: [x.strides[axis]! >>> 0, size],
      windows: ['strided', { extent }],
    });
  }
  // One slice along the axis is larger than a window (a column of an embedding table): one pass per
  // window of rows along `axis`; each pass writes the elements whose index falls in its rows and keeps
  // the others (an element's final value comes from exactly one pass).
  const ranges = planRanges(size, 1, size, (r0, r1) => {
    const [lo, hi] = rows(r0, r1);
    return fitsSpan(ctx, x.dtype, hi - lo + 1);
  });
  if (!ranges) {
    // One slice spans more than a window (a transposed table): gather from a contiguous copy, whose
    // slices along axis 0 are contiguous; along other axes no copy helps.
    const contiguous = x.shape.every((d, i) => i === x.shape.length - 1 || x.strides[i] === x.strides[i + 1]! * x.shape[i + 1]!) && x.strides.at(-1) === 1;
    if (contiguous || axis !== 0) {
      throw new BindingLimitError(bindingLimitMessage('gather', `one slice of input [${x.shape.join(',')}] ${x.dtype} along axis ${axis}`, bufferOf(x).size, ctx) + '; gather along axis 0 of a contiguous table splits');
    }
    const copy = copyKernel(ctx, [x], undefined, { shape: x.shape, dtype: x.dtype });
    const result = gatherFrom(ctx, bufferView(copy, x.dtype, x.shape), index, axis, out);
    ctx.release(copy);
    return result;
  }
  const n = out.shape.reduce((a, b) => a * b, 1);
  const buffer = ctx.acquire(storageBytes(out.dtype, n));
  for (const [r0, r1] of ranges) {
    runMap(ctx, {
      ...call,
      key: `gather-rows:${x.dtype}:${index.dtype}`,
      spec: {
        inputs: [index.dtype, x.dtype],
        out: out.dtype,
        value: `${lookup}\n  if (k < i32(p(${E + 2}u)) || k >= i32(p(${E + 3}u))) { return old(i); }\n  return ${read};`,
        readsOutput: true,
      },
      extra: [x.strides[axis]! >>> 0, size, r0, r1],
      windows: ['strided', rows(r0, r1)],
      into: buffer,
    });
  }
  return buffer;
}

/** Element range the view touches over slices [r0, r1) along `axis` (all of every other dim). */
function viewSpan(x: TensorView, axis: number, r0: number, r1: number): [number, number] {
  const lo = x.shape.map((_, d) => (d === axis ? r0 : 0));
  const len = x.shape.map((n, d) => (d === axis ? r1 - r0 : Math.max(1, n)));
  return boxSpan(x.offset, x.strides, lo, len);
}
