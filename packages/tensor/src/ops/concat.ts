import { promoteTypes } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { fmtShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { sliceOp } from './slice.js';
import { unsqueeze } from './squeeze.js';

/** Joins tensors along an existing axis. */
export const concatOp = defineOp<{ axis: number }>({
  name: 'concat',
  kind: 'primitive',
  differentiable: true,
  infer: (inputs, { axis }) => {
    const first = inputs[0]!;
    let total = 0;
    inputs.forEach((t, i) => {
      if (t.rank !== first.rank || t.shape.some((d, j) => j !== axis && d !== first.shape[j])) {
        throw new RangeError(`concat: input ${i} ${fmtShape(t.shape)} does not match input 0 ${fmtShape(first.shape)} outside axis ${axis}`);
      }
      if (t.dtype !== first.dtype) throw new TypeError(`concat: input ${i} is ${t.dtype} but input 0 is ${first.dtype}`);
      total += t.shape[axis]!;
    });
    const shape = [...first.shape];
    shape[axis] = total;
    return { shape, dtype: first.dtype };
  },
  vjp: (dy, { inputs, attrs: { axis } }) => {
    let start = 0;
    return inputs.map((t) => {
      const size = t.shape[axis]!;
      const g = apply(sliceOp, [dy], { axis, start, size, step: 1 });
      start += size;
      return g;
    });
  },
});

/** Joins tensors along `axis` (dtypes are promoted to a common one). */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('concat: needs at least one tensor');
  const ax = normalizeAxis(axis, tensors[0]!.rank, 'concat');
  if (tensors.length === 1) return tensors[0]!;
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  return apply(concatOp, tensors.map((t) => cast(t, dtype)), { axis: ax });
}

/** Stacks same-shape tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: needs at least one tensor');
  const ax = normalizeAxis(axis, tensors[0]!.rank + 1, 'stack');
  tensors.forEach((t, i) => {
    if (t.rank !== tensors[0]!.rank || t.shape.some((d, j) => d !== tensors[0]!.shape[j])) {
      throw new RangeError(`stack: input ${i} ${fmtShape(t.shape)} differs from input 0 ${fmtShape(tensors[0]!.shape)}; all must have one shape`);
    }
  });
  const parts = tensors.map((t) => unsqueeze(t, ax));
  if (parts.length === 1) return parts[0]!;
  const dtype = parts.map((t) => t.dtype).reduce(promoteTypes);
  return apply(concatOp, parts.map((t) => cast(t, dtype)), { axis: ax });
}
