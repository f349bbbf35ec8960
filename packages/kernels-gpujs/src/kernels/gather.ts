// gather (torch.gather): out[p] = x[p with p[axis] replaced by index[p]]. The index is read per
// element; indices outside [0, size) give 0 (a shader cannot raise an error) and index-bounds.ts
// raises them at the next read or sync.
import { numel } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { checkIndexBounds } from '../index-bounds.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, indexCode, kernelSource } from '../kernel-source.js';

// Table: output (= index) dims at 0, x's layout (axis stride 0) at R, index layout at 2R+1, then the
// axis stride and size of x.
const tailAt = 3 * MAX_RANK + 2;
const SOURCE = kernelSource(
  2,
  [
    OUTPUT_COORDS,
    indexCode('ix', MAX_RANK, 'c'),
    indexCode('ik', 2 * MAX_RANK + 1, 'c'),
    'let k = x1[ik];',
    'let gv = 0.0;',
    `let gsize = m[${tailAt + 1}];`,
    `let gstride = m[${tailAt}];`,
    `if (k >= 0.0 && k < gsize) { gv = x0[ix + k * gstride]; }`,
    'return gv;',
  ].join('\n'),
);

/** Picks elements of x along `axis` at the positions in `index` (same rank as x). */
export const gatherKernel: GpuJsKernel<{ axis: number }> = (ctx, [x, index], { axis }, out) => {
  const m = new MetaTable();
  m.dims(out.shape, 'gather');
  m.strides(x!.strides.map((s, i) => (i === axis ? 0 : s)), 'gather');
  m.push(x!.offset);
  m.strides(index!.strides, 'gather');
  m.push(index!.offset);
  m.push(x!.strides[axis]!, x!.shape[axis]!);
  checkIndexBounds(ctx, 'gather', index!, axis, x!.shape[axis]!);
  return ctx.run({ source: SOURCE, size: numel(out.shape), args: [handleOf(x!), handleOf(index!), m.toArray()] });
};

