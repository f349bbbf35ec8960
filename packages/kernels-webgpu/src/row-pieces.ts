// Dispatches a one-workgroup-per-row kernel (softmax, logSoftmax, layerNorm, rmsNorm) whose operands
// are larger than one binding: the rows (the kept dims) are cut into boxes whose windows, whole rows
// included, fit (binding-window.ts), and each box is dispatched with the iteration shape set to the
// box and each walked operand's offset moved to its first row inside its window, so the shaders run
// unchanged. A row that spans more than a window runs on a copy with the axis last and contiguous
// (alongContiguousRows); a single row larger than a binding is a BindingLimitError.
import type { DType, OutputSpec, Shape, TensorView } from '@tessera/tensor';
import { BindingLimitError, bindingLimitMessage, boxesOf, boxSpan, elementShift, fitsSpan, planBoxLengths, windowOf, type Binding } from './binding-window.js';
import type { GpuContext } from './gpu-context.js';
import { copyKernel } from './kernels/cast.js';
import { bufferOf, bufferView, viewWith } from './map-dispatch.js';
import { storageBytes } from './wgsl/dtype-io.js';

/** An operand walked per row: its buffer, the parameter word of its offset, its offset and strides over the kept dims, and the elements one row spans. */
export interface RowOperand {
  readonly buffer: GPUBuffer;
  readonly dtype: DType;
  /** Parameter word holding its offset (operandBase(k) of the kernel's layout). */
  readonly base: number;
  readonly offset: number;
  readonly strides: readonly number[];
  /** [min, max] element offsets of a row relative to its first element. */
  readonly row: readonly [number, number];
}

/**
 * Records the row kernel `pipeline` (one workgroup per row, `params` laid out by writeLayout over the
 * `kept` dims) reading `reads` (bindings 1..n: operands walked per row, or small buffers bound whole)
 * and writing `output` (binding n + 1).
 */
export function dispatchRows(ctx: GpuContext, pipeline: GPUComputePipeline, where: string, params: Uint32Array, kept: Shape, reads: readonly (RowOperand | GPUBuffer)[], output: RowOperand): void {
  const limit = ctx.maxBindingBytes;
  const walked = [...reads, output].filter((r): r is RowOperand => 'base' in r);
  if (walked.every((o) => o.buffer.size <= limit)) {
    ctx.dispatch(pipeline, reads.map((r) => ('base' in r ? r.buffer : r)), output.buffer, params, params[0]!);
    return;
  }
  const len = planBoxLengths(
    ctx,
    kept,
    walked.map((o) => ({ strides: o.strides, dtype: o.dtype, whole: o.buffer.size <= limit, extent: o.row[1] - o.row[0] })),
  );
  for (const box of boxesOf(kept, len)) {
    const p = params.slice();
    const bind = (o: RowOperand): Binding => {
      const [lo, hi] = boxSpan(o.offset, o.strides, box.lo, box.len);
      const binding = windowOf(ctx, o.buffer, o.dtype, lo + o.row[0], hi + o.row[1]);
      if (!binding) throw new BindingLimitError(bindingLimitMessage(where, `one row (${o.row[1] - o.row[0] + 1} elements of ${o.dtype})`, (o.row[1] - o.row[0] + 1) * 4, ctx));
      const first = o.offset + box.lo.reduce((acc, c, d) => acc + c * o.strides[d]!, 0);
      p[o.base] = (first - elementShift(binding, o.dtype)) >>> 0;
      return binding;
    };
    const bindings = reads.map((r) => ('base' in r ? bind(r) : r));
    const write = bind(output);
    p[0] = box.len.reduce((a, b) => a * b, 1);
    box.len.forEach((l, d) => (p[4 + d] = l));
    ctx.dispatch(pipeline, bindings, write, p, p[0]!);
  }
}

/** [min, max] element offsets of a row of `count` elements `stride` apart. */
export function rowSpan(count: number, stride: number): [number, number] {
  const last = Math.max(0, count - 1) * stride;
  return [Math.min(0, last), Math.max(0, last)];
}

/**
 * Runs `kernel` (a row kernel along `axis`) on `x`, first moving the axis last into a contiguous copy
 * when x or the result exceeds a binding and one row, of x or of the result, spans more than a window
 * (a transposed input, a softmax over the first dim); the result is copied back into x's dim order.
 */
export function alongContiguousRows(ctx: GpuContext, x: TensorView, axis: number, out: OutputSpec, kernel: (x: TensorView, axis: number, out: OutputSpec) => GPUBuffer): GPUBuffer {
  const n = x.shape.reduce((a, b) => a * b, 1);
  const len = x.shape[axis] ?? 1;
  const last = x.shape.length - 1;
  const outStride = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const big = bufferOf(x).size > ctx.maxBindingBytes || storageBytes(out.dtype, n) > ctx.maxBindingBytes;
  const rowsFit = fitsSpan(ctx, x.dtype, Math.abs(x.strides[axis] ?? 0) * (len - 1) + 1) && fitsSpan(ctx, out.dtype, outStride * (len - 1) + 1);
  if (!big || rowsFit || last < 0) return kernel(x, axis, out);
  const perm = [...x.shape.keys()].filter((d) => d !== axis).concat(axis);
  const movedShape = perm.map((d) => x.shape[d]!);
  const moved = copyKernel(ctx, [viewWith(x, { shape: movedShape, strides: perm.map((d) => x.strides[d]!) })], undefined, { shape: movedShape, dtype: x.dtype });
  const result = kernel(bufferView(moved, x.dtype, movedShape), last, { shape: movedShape, dtype: out.dtype });
  ctx.release(moved);
  if (axis === last) return result;
  // Element (…, i_axis, …) of the output sits where the moved result keeps it: strides put back in x's order.
  const movedStrides = bufferView(result, out.dtype, movedShape).strides;
  const back = x.shape.map((_, d) => movedStrides[perm.indexOf(d)]!);
  const ordered = copyKernel(ctx, [bufferView(result, out.dtype, x.shape, back)], undefined, out);
  ctx.release(result);
  return ordered;
}
