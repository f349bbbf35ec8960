// torch.gather: out[p] = x[p with p[axis] replaced by index[p]]. The walk runs over the index's
// shape; x is addressed with stride 0 on `axis` plus the looked-up index times the axis stride.
// Indices are clamped into range (a shader cannot throw); index-bounds.ts reports bad ones at the next read.
import type { GpuKernel } from '../gpu-kernel.js';
import { checkIndexBounds } from '../index-bounds.js';
import { runMap } from '../map-dispatch.js';
import { convertExpr } from '../wgsl/dtype-io.js';
import { extraBase, operandBase } from '../wgsl/indexing.js';

const E = extraBase(2);

/** Picks elements of x along `axis` at the positions in `index`. */
export const gatherKernel: GpuKernel<{ axis: number }> = (ctx, [x, index], { axis }, out) => {
  const xStrides = x!.strides.map((s, i) => (i === axis ? 0 : s));
  checkIndexBounds(ctx, 'gather', index!, axis, x!.shape[axis]!);
  return runMap(ctx, {
    key: `gather:${x!.dtype}:${index!.dtype}`,
    spec: {
      inputs: [index!.dtype, x!.dtype],
      out: out.dtype,
      value: `let k = clamp(${convertExpr(`in0(offset_of(${operandBase(0)}u, i))`, index!.dtype, 'i32')}, 0, i32(p(${E + 1}u)) - 1);
  return in1(offset_of(${operandBase(1)}u, i) + u32(k) * p(${E}u));`,
    },
    shape: out.shape,
    inputs: [index!, x!],
    strides: [index!.strides, xStrides],
    extra: [x!.strides[axis]! >>> 0, x!.shape[axis]!],
    where: 'gather',
  });
};
