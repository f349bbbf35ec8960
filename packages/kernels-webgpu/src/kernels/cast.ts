// Conversion between every pair of dtypes, f64 included (decoded and rounded in WGSL: the one
// kernel that meets f64, since the dispatcher casts f64 to f32 around every other kernel).
import type { DType } from '@tessera/tensor';
import type { GpuContext } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { collapse, runMap } from '../map-dispatch.js';
import { convertExpr } from '../wgsl/dtype-io.js';
import { operandBase } from '../wgsl/indexing.js';

/** Converts a buffer of `from` elements (dense, `size` elements) to a new buffer of `to` elements. */
export function castBuffer(ctx: GpuContext, buffer: GPUBuffer, from: DType, to: DType, size: number): GPUBuffer {
  const storage = { data: buffer } as unknown as import('@tessera/tensor').Storage;
  return castKernel(ctx, [{ storage, shape: [size], strides: [1], offset: 0, dtype: from }], { dtype: to }, { shape: [size], dtype: to });
}

/** Converts elements to `out.dtype`: floats to integers truncate toward zero, anything to bool is != 0. */
export const castKernel: GpuKernel<{ dtype: DType }> = (ctx, [x], _attrs, out) => {
  const plan = collapse(x!.shape, [x!.strides]);
  return runMap(ctx, {
    key: `cast:${x!.dtype}:${out.dtype}`,
    spec: { inputs: [x!.dtype], out: out.dtype, value: `return ${convertExpr(`in0(offset_of(${operandBase(0)}u, i))`, x!.dtype, out.dtype)};` },
    shape: plan.shape,
    inputs: [x!],
    strides: plan.strides,
    windows: ['strided'],
    where: 'cast',
  });
};

/** A dense row-major copy of any strided view. */
export const copyKernel: GpuKernel = (ctx, [x], _attrs, out) => {
  const plan = collapse(x!.shape, [x!.strides]);
  return runMap(ctx, {
    key: `copy:${x!.dtype}`,
    spec: { inputs: [x!.dtype], out: out.dtype, value: `return in0(offset_of(${operandBase(0)}u, i));` },
    shape: plan.shape,
    inputs: [x!],
    strides: plan.strides,
    windows: ['strided'],
    where: 'copy',
  });
};
