import { apply, defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';

/** The same memory as a tensor outside the gradient graph. */
export const detachOp = defineOp<undefined>({
  name: 'detach',
  kind: 'view',
  differentiable: false,
  layout: (x) => ({ shape: [...x.shape], strides: [...x.strides], offset: x.offset }),
});

/** A tensor sharing `x`'s memory that gradients do not flow through. */
export function detach(x: Tensor): Tensor {
  return apply(detachOp, [x], undefined);
}
