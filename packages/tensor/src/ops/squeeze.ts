import { apply, defineOp } from '../op.js';
import { normalizeAxes, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { reshape } from './view.js';

/** Removes size-1 dims (no copy). */
export const squeezeOp = defineOp<{ axes: number[] }>({
  name: 'squeeze',
  kind: 'view',
  differentiable: true,
  layout: (x, { axes }) => ({
    shape: x.shape.filter((_, i) => !axes.includes(i)),
    strides: x.strides.filter((_, i) => !axes.includes(i)),
    offset: x.offset,
  }),
  vjp: (dy, { attrs: { axes } }) => [unsqueezeMany(dy, axes)],
});

/** Inserts a size-1 dim (no copy). */
export const unsqueezeOp = defineOp<{ axis: number }>({
  name: 'unsqueeze',
  kind: 'view',
  differentiable: true,
  layout: (x, { axis }) => {
    const shape = [...x.shape];
    const strides = [...x.strides];
    const stride = axis < x.rank ? x.strides[axis]! * x.shape[axis]! : 1;
    shape.splice(axis, 0, 1);
    strides.splice(axis, 0, stride);
    return { shape, strides, offset: x.offset };
  },
  vjp: (dy, { inputs: [x] }) => [reshape(dy, x!.shape)],
});

function unsqueezeMany(x: Tensor, axes: readonly number[]): Tensor {
  let out = x;
  for (const a of [...axes].sort((p, q) => p - q)) out = apply(unsqueezeOp, [out], { axis: a });
  return out;
}

/** Removes the given size-1 dims, or all size-1 dims when none are given. */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const list =
    axes === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : normalizeAxes(axes, x.rank, 'squeeze').filter((a) => x.shape[a] === 1); // PyTorch ignores non-1 dims
  if (list.length === 0) return x;
  return apply(squeezeOp, [x], { axes: list });
}

/** Inserts a size-1 dim at `axis` (which may be rank, or negative counting from rank + 1). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.rank + 1, 'unsqueeze');
  return apply(unsqueezeOp, [x], { axis: a });
}
