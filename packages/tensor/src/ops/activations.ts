// Activations defined by decomposition: their gradients come from the primitives they are made of.
import { apply, defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { add, mul } from './binary.js';
import { erf, sigmoid, tanh } from './unary.js';

/** x * x */
export const squareOp = defineOp<undefined>({
  name: 'square',
  kind: 'composite',
  differentiable: true,
  decompose: ([x]) => mul(x!, x!),
});

/** GELU: exact form 0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation used by GPT-2. */
export const geluOp = defineOp<{ approximate: 'none' | 'tanh' }>({
  name: 'gelu',
  kind: 'composite',
  differentiable: true,
  decompose: ([x], { approximate }) => {
    if (approximate === 'tanh') {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const inner = mul(add(x!, mul(mul(x!, mul(x!, x!)), 0.044715)), 0.7978845608028654);
      return mul(mul(x!, 0.5), add(tanh(inner), 1));
    }
    return mul(mul(x!, 0.5), add(erf(mul(x!, Math.SQRT1_2)), 1));
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
