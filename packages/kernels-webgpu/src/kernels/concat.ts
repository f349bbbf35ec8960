// concat: each input fills its slab of the output along `axis`. Unpacked outputs are written one box
// per input (the slab), read through the input's strides shifted by the slab's start, so a slab or an
// input larger than a binding is split into windows like any map kernel. Packed outputs (f16, bf16,
// u8, bool) share words across slab edges: each input's pass rewrites the whole output, keeping
// elements outside its slab (`old`), and cannot be split.
import type { GpuKernel } from '../gpu-kernel.js';
import { runMap, viewWith } from '../map-dispatch.js';
import { isPacked, storageBytes } from '../wgsl/dtype-io.js';
import { extraBase, operandBase } from '../wgsl/indexing.js';

const E = extraBase(1);

/** Joins inputs along `axis`. */
export const concatKernel: GpuKernel<{ axis: number }> = (ctx, inputs, { axis }, out) => {
  const n = out.shape.reduce((a, b) => a * b, 1);
  const buffer = ctx.acquire(storageBytes(out.dtype, n));
  if (n === 0) return buffer;
  let start = 0;
  for (const x of inputs) {
    const size = x.shape[axis]!;
    if (size > 0 && !isPacked(out.dtype)) {
      runMap(ctx, {
        key: `concat-slab:${x.dtype}:${out.dtype}`,
        spec: { inputs: [x.dtype], out: out.dtype, value: `return in0(offset_of(${operandBase(0)}u, i));` },
        shape: out.shape,
        // Output coordinate c along the axis reads the input's c - start.
        inputs: [viewWith(x, { offset: x.offset - start * x.strides[axis]! })],
        windows: ['strided'],
        box: { lo: out.shape.map((_, d) => (d === axis ? start : 0)), len: out.shape.map((m, d) => (d === axis ? size : m)) },
        into: buffer,
        where: 'concat',
      });
    } else if (size > 0) {
      runMap(ctx, {
        key: `concat:${x.dtype}`,
        spec: {
          inputs: [x.dtype],
          out: out.dtype,
          value: `let c = coord(i, p(${E + 3}u));
  if (c >= p(${E}u) && c < p(${E}u) + p(${E + 1}u)) { return in0(offset_of(${operandBase(0)}u, i) - p(${E}u) * p(${E + 2}u)); }
  return old(i);`,
          readsOutput: true,
        },
        shape: out.shape,
        inputs: [x],
        extra: [start, size, x.strides[axis]! >>> 0, axis],
        into: buffer,
        where: 'concat',
      });
    }
    start += size;
  }
  return buffer;
};
