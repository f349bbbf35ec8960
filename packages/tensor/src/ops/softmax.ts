import { isFloat } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, sub } from './binary.js';
import { detach } from './detach.js';
import { max, sum } from './reduce.js';
import { exp, log } from './unary.js';

// Both subtract the row max first (detached: it cancels out of the value, so no gradient flows through it).

/** exp(x) / sum(exp(x)) along an axis. */
export const softmaxOp = defineOp<{ axis: number }>({
  name: 'softmax',
  kind: 'composite',
  differentiable: true,
  // Used only when a backend registers a fused kernel; integers give f32, as exp does.
  infer: ([x]) => ({ shape: x!.shape, dtype: isFloat(x!.dtype) ? x!.dtype : 'f32' }),
  decompose: ([x], { axis }) => {
    const e = exp(sub(x!, detach(max(x!, axis, true))));
    return div(e, sum(e, axis, true));
  },
});

/** x - logsumexp(x) along an axis. */
export const logSoftmaxOp = defineOp<{ axis: number }>({
  name: 'logSoftmax',
  kind: 'composite',
  differentiable: true,
  // Used only when a backend registers a fused kernel; integers give f32, as exp does.
  infer: ([x]) => ({ shape: x!.shape, dtype: isFloat(x!.dtype) ? x!.dtype : 'f32' }),
  decompose: ([x], { axis }) => {
    const shifted = sub(x!, detach(max(x!, axis, true)));
    return sub(shifted, log(sum(exp(shifted), axis, true)));
  },
});

/** Softmax along `axis` (default the last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return apply(softmaxOp, [x], { axis: normalizeAxis(axis, x.rank, 'softmax') });
}

/** Log-softmax along `axis` (default the last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return apply(logSoftmaxOp, [x], { axis: normalizeAxis(axis, x.rank, 'logSoftmax') });
}
