import { assertDType, isFloat, type DType } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';

/** Converts elements to another dtype (round to nearest for f16/bf16, truncation toward zero for integers, != 0 for bool). */
export const castOp = defineOp<{ dtype: DType }>({
  name: 'cast',
  kind: 'primitive',
  differentiable: true,
  infer: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
  vjp: (dy, { inputs: [x] }) => [isFloat(x!.dtype) ? cast(dy, x!.dtype) : null],
});

/** `x` converted to `dtype` (the same tensor when it already has it). */
export function cast(x: Tensor, dtype: DType): Tensor {
  assertDType(dtype, 'cast');
  if (x.dtype === dtype) return x;
  return apply(castOp, [x], { dtype });
}
