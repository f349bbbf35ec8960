// Activations defined by decomposition: their gradients come from the primitives they are made of,
// except GELU's, whose derivative is one fused op where a backend has it (several ops otherwise).
import { isFloat, promoteTypes } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, mul, sub } from './binary.js';
import { erf, exp, sigmoid, tanh } from './unary.js';

type GeluAttrs = { approximate: 'none' | 'tanh' };
/** sqrt(2 / pi), the tanh form's scale; 0.044715 its cubic coefficient (GPT-2's constants). */
const TANH_SCALE = 0.7978845608028654;
const TANH_CUBIC = 0.044715;

/** x * x */
export const squareOp = defineOp<undefined>({
  name: 'square',
  kind: 'composite',
  differentiable: true,
  decompose: ([x]) => mul(x!, x!),
});

/** GELU: exact form 0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation used by GPT-2. */
export const geluOp = defineOp<GeluAttrs>({
  name: 'gelu',
  kind: 'composite',
  differentiable: true,
  // Used only when a backend registers a fused kernel: the decomposition's result dtype.
  infer: ([x]) => ({ shape: x!.shape, dtype: isFloat(x!.dtype) ? x!.dtype : 'f32' }),
  decompose: ([x], { approximate }) => {
    if (approximate === 'tanh') {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const inner = mul(add(x!, mul(mul(x!, mul(x!, x!)), TANH_CUBIC)), TANH_SCALE);
      return mul(mul(x!, 0.5), add(tanh(inner), 1));
    }
    return mul(mul(x!, 0.5), add(erf(mul(x!, Math.SQRT1_2)), 1));
  },
  // One op for dy * gelu'(x) instead of the decomposition's dozen-odd gradient ops.
  vjp: (dy, { inputs: [x], attrs }) => [apply(geluBackwardOp, [x!, dy], attrs)],
});

/**
 * GELU's input gradient dy * gelu'(x): for the exact form Phi(x) + x phi(x) (the normal CDF and
 * density); for the tanh form 0.5 (1 + t) + 0.5 x (1 - t^2) u'(x), t = tanh(u(x)).
 */
export const geluBackwardOp = defineOp<GeluAttrs>({
  name: 'geluBackward',
  kind: 'composite',
  // Differentiable through its decomposition, for higher-order gradients.
  differentiable: true,
  // Used only when a backend registers a fused kernel: the decomposition's result shape and dtype.
  infer: ([x, dy]) => ({ shape: broadcastShapes(x!.shape, dy!.shape), dtype: promoteTypes(isFloat(x!.dtype) ? x!.dtype : 'f32', dy!.dtype) }),
  decompose: ([x, dy], { approximate }) => {
    const x2 = mul(x!, x!);
    if (approximate === 'tanh') {
      const t = tanh(mul(mul(x!, add(mul(x2, TANH_CUBIC), 1)), TANH_SCALE));
      const slope = mul(add(mul(x2, 3 * TANH_CUBIC), 1), TANH_SCALE); // u'(x)
      return mul(dy!, add(mul(add(t, 1), 0.5), mul(mul(mul(x!, 0.5), sub(1, mul(t, t))), slope)));
    }
    const cdf = mul(add(erf(mul(x!, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(x2, -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return mul(dy!, add(cdf, mul(x!, pdf)));
  },
});

/** SiLU (swish): x * sigmoid(x). */
export const siluOp = defineOp<undefined>({
  name: 'silu',
  kind: 'composite',
  differentiable: true,
  decompose: ([x]) => mul(x!, sigmoid(x!)),
});

/** x squared. */
export const square = (x: Tensor): Tensor => apply(squareOp, [x], undefined);
/** GELU activation; `approximate: 'tanh'` for the GPT-2 form (PyTorch's `approximate='tanh'`). */
export const gelu = (x: Tensor, opts?: { approximate?: 'none' | 'tanh' }): Tensor =>
  apply(geluOp, [x], { approximate: opts?.approximate ?? 'none' });
/** SiLU / swish activation, as in Llama's gated MLP. */
export const silu = (x: Tensor): Tensor => apply(siluOp, [x], undefined);
