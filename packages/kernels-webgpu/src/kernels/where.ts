// where(cond, a, b) with three-way broadcasting.
import type { GpuKernel } from '../gpu-kernel.js';
import { collapse, runMap } from '../map-dispatch.js';
import { broadcastStrides, operandBase } from '../wgsl/indexing.js';

/** Picks a where cond is true, else b. */
export const whereKernel: GpuKernel = (ctx, [c, a, b], _attrs, out) => {
  const plan = collapse(out.shape, [c!, a!, b!].map((v) => broadcastStrides(v, out.shape)));
  return runMap(ctx, {
    key: `where:${a!.dtype}:${b!.dtype}:${out.dtype}`,
    spec: {
      inputs: ['bool', a!.dtype, b!.dtype],
      out: out.dtype,
      value: `if (in0(offset_of(${operandBase(0)}u, i)) != 0u) { return in1(offset_of(${operandBase(1)}u, i)); }
  return in2(offset_of(${operandBase(2)}u, i));`,
    },
    shape: plan.shape,
    inputs: [c!, a!, b!],
    strides: plan.strides,
    windows: ['strided', 'strided', 'strided'],
    where: 'where',
  });
};
