import type { OutputSpec } from '../backend.js';
import { isFloat, promoteTypes } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, mul, sub } from './binary.js';
import { detach } from './detach.js';
import { max, sum } from './reduce.js';
import { exp, log } from './unary.js';

/** Shape and dtype of a softmax backward: the decomposition's (x's float dtype promoted with dy's). */
function backwardSpec([x, dy]: readonly Tensor[]): OutputSpec {
  return { shape: x!.shape, dtype: promoteTypes(isFloat(x!.dtype) ? x!.dtype : 'f32', dy!.dtype) };
}

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
  // The backward recomputes softmax from x (a fused kernel keeps only the row max and sum).
  vjp: (dy, { inputs: [x], attrs }) => [apply(softmaxBackwardOp, [x!, dy], attrs)],
});

/** Gradient of softmax given x and dy: s * (dy - sum(dy * s)) with s = softmax(x), along an axis. */
export const softmaxBackwardOp = defineOp<{ axis: number }>({
  name: 'softmaxBackward',
  kind: 'composite',
  // Differentiable through its decomposition, for higher-order gradients.
  differentiable: true,
  infer: backwardSpec,
  decompose: ([x, dy], { axis }) => {
    const s = softmax(x!, axis);
    return mul(s, sub(dy!, sum(mul(dy!, s), axis, true)));
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
  vjp: (dy, { inputs: [x], attrs }) => [apply(logSoftmaxBackwardOp, [x!, dy], attrs)],
});

/** Gradient of logSoftmax given x and dy: dy - softmax(x) * sum(dy), along an axis. */
export const logSoftmaxBackwardOp = defineOp<{ axis: number }>({
  name: 'logSoftmaxBackward',
  kind: 'composite',
  differentiable: true,
  infer: backwardSpec,
  decompose: ([x, dy], { axis }) => sub(dy!, mul(softmax(x!, axis), sum(dy!, axis, true))),
});

/** Softmax along `axis` (default the last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return apply(softmaxOp, [x], { axis: normalizeAxis(axis, x.rank, 'softmax') });
}

/** Log-softmax along `axis` (default the last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return apply(logSoftmaxOp, [x], { axis: normalizeAxis(axis, x.rank, 'logSoftmax') });
}
