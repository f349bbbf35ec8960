import { apply, defineOp } from '../op.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Broadcasts size-1 dims (and new leading dims) to a larger shape with stride 0: no copy. */
export const expandOp = defineOp<{ shape: number[] }>({
  name: 'expand',
  kind: 'view',
  differentiable: true,
  layout: (x, { shape }) => {
    const lead = shape.length - x.rank;
    const strides = shape.map((d, i) => {
      if (i < lead) return 0;
      const own = x.shape[i - lead]!;
      return own === d ? x.strides[i - lead]! : 0;
    });
    return { shape: [...shape], strides, offset: x.offset };
  },
  // The engine sums a gradient back to its input's shape, which is exactly expand's rule.
  vjp: (dy) => [dy],
});

/** Broadcasts to `shape` without copying; -1 keeps a dim's size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  if (lead < 0) throw new RangeError(`expand: target ${fmtShape(shape)} has fewer dims than the input ${fmtShape(x.shape)}`);
  const target = shape.map((d, i) => {
    const own = i >= lead ? x.shape[i - lead]! : 1;
    const want = d === -1 ? own : d;
    if (i < lead && d === -1) throw new RangeError(`expand: -1 is not allowed in new leading dim ${i} of ${fmtShape(shape)}`);
    if (own !== want && own !== 1) {
      throw new RangeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dim ${i}: ${own} vs ${want}); only size-1 dims expand`);
    }
    return want;
  });
  if (target.length === x.rank && target.every((d, i) => d === x.shape[i])) return x;
  return apply(expandOp, [x], { shape: target });
}

/** NumPy's name for `expand`. */
export const broadcastTo = expand;
