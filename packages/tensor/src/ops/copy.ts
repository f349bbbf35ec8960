import { apply, defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';

/** A dense row-major copy of any strided view. */
export const copyOp = defineOp<undefined>({
  name: 'copy',
  kind: 'primitive',
  differentiable: true,
  infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  vjp: (dy) => [dy],
});

/** A contiguous copy that stays in the gradient graph (PyTorch's `clone`). */
export function clone(x: Tensor): Tensor {
  return apply(copyOp, [x], undefined);
}

/** `x` itself when dense and row-major, else a contiguous copy. */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous ? x : clone(x);
}
