// concat: one dispatch per input over the whole output; each invocation owns an output word and
// keeps the elements outside its input's range, so packed dtypes need no atomics.
import type { GpuKernel } from '../gpu-kernel.js';
import { runMap } from '../map-dispatch.js';
import { storageBytes } from '../wgsl/dtype-io.js';
import { extraBase, operandBase } from '../wgsl/indexing.js';

const E = extraBase(1);

/** Joins inputs along `axis`. */
export const concatKernel: GpuKernel<{ axis: number }> = (ctx, inputs, { axis }, out) => {
  const n = out.shape.reduce((a, b) => a * b, 1);
  const buffer = ctx.acquire(storageBytes(out.dtype, n));
  let start = 0;
  for (const x of inputs) {
    const size = x.shape[axis]!;
    if (size > 0) {
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
