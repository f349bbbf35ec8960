import { apply, defineOp } from '../op.js';
import { contiguousStrides, fmtShape, numel, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { contiguous } from './copy.js';

/** Resolves one -1 in a requested shape and checks the element count. */
export function inferShape(x: Tensor, shape: readonly number[], where: string): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (out.some((d, i) => (d < 0 && i !== free) || !Number.isInteger(d))) {
    throw new RangeError(`${where}: invalid target shape ${fmtShape(shape)}; use non-negative integers and at most one -1`);
  }
  if (free >= 0) {
    const known = numel(out.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(`${where}: cannot infer -1 in ${fmtShape(shape)} for ${x.size} elements (input ${fmtShape(x.shape)})`);
    }
    out[free] = x.size / known;
  }
  if (numel(out) !== x.size) {
    throw new RangeError(`${where}: shape ${fmtShape(shape)} holds ${numel(out)} elements but the input ${fmtShape(x.shape)} has ${x.size}`);
  }
  return out;
}

/** A new shape over the same contiguous memory. */
export const viewOp = defineOp<{ shape: Shape }>({
  name: 'view',
  kind: 'view',
  differentiable: true,
  layout: (x, { shape }) => {
    if (!x.isContiguous) {
      throw new Error(`view: input ${fmtShape(x.shape)} with strides [${x.strides.join(',')}] is not contiguous; use reshape (copies) or contiguous() first`);
    }
    return { shape: [...shape], strides: contiguousStrides(shape), offset: x.offset };
  },
  vjp: (dy, { inputs: [x] }) => [reshape(dy, x!.shape)],
});

/** Same elements, new shape, never copying (a clear error when the input is not contiguous). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  return apply(viewOp, [x], { shape: inferShape(x, shape, 'view') });
}

/** Same elements, new shape (one dim may be -1); copies only when the input is not contiguous. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape(x, shape, 'reshape');
  if (target.length === x.shape.length && target.every((d, i) => d === x.shape[i])) return x;
  return apply(viewOp, [contiguous(x)], { shape: target });
}

/** Flattens dims start..end (inclusive; negatives count from the end) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  const rank = x.rank;
  if (rank === 0) return reshape(x, [1]);
  const s = start < 0 ? start + rank : start;
  const e = end < 0 ? end + rank : end;
  if (s < 0 || e >= rank || s > e) throw new RangeError(`flatten: invalid range start=${start}, end=${end} for rank ${rank}`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}
