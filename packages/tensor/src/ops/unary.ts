// The elementwise unary primitives, each with its gradient rule written in ops. Kernels packages
// implement each with one scalar function; the rules below are what every backend differentiates.
import { gt, le, ge, mul, sub, div, add, where } from './binary.js';
import { applyUnary, defineUnary } from './unary-op.js';
import { scalarLike } from './creation.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';

export const negOp = defineUnary('neg', false, (dy) => [neg(dy)]);
export const absOp = defineUnary('abs', false, (dy, { inputs: [x] }) => [mul(dy, sign(x!))]);
export const signOp = defineUnary('sign', false);
export const expOp = defineUnary('exp', true, (dy, { output }) => [mul(dy, output)]);
export const logOp = defineUnary('log', true, (dy, { inputs: [x] }) => [div(dy, x!)]);
export const log1pOp = defineUnary('log1p', true, (dy, { inputs: [x] }) => [div(dy, add(x!, 1))]);
export const sqrtOp = defineUnary('sqrt', true, (dy, { output }) => [div(mul(dy, 0.5), output)]);
// d/dx x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
export const rsqrtOp = defineUnary('rsqrt', true, (dy, { output }) => [mul(mul(dy, -0.5), mul(output, mul(output, output)))]);
export const sinOp = defineUnary('sin', true, (dy, { inputs: [x] }) => [mul(dy, cos(x!))]);
export const cosOp = defineUnary('cos', true, (dy, { inputs: [x] }) => [neg(mul(dy, sin(x!)))]);
export const tanhOp = defineUnary('tanh', true, (dy, { output }) => [mul(dy, sub(1, mul(output, output)))]);
export const sigmoidOp = defineUnary('sigmoid', true, (dy, { output }) => [mul(dy, mul(output, sub(1, output)))]);
export const reluOp = defineUnary('relu', false, (dy, { inputs: [x] }) => [where(gt(x!, 0), dy, scalarLike(0, dy))]);
// d/dx erf(x) = 2/sqrt(pi) exp(-x^2)
export const erfOp = defineUnary('erf', true, (dy, { inputs: [x] }) => [mul(dy, mul(exp(neg(mul(x!, x!))), 1.1283791670955126))]);
// softplus(x) = log(1 + e^x), computed stably by kernels; its derivative is sigmoid(x).
export const softplusOp = defineUnary('softplus', true, (dy, { inputs: [x] }) => [mul(dy, sigmoid(x!))]);
/** Clamp's gradient passes where min <= x <= max, as in PyTorch. */
export const clampOp = defineUnary<{ min: number; max: number }>('clamp', false, (dy, { inputs: [x], attrs }) => [
  mul(dy, cast(mul(ge(x!, attrs.min), le(x!, attrs.max)), dy.dtype)),
]);

/** -x */
export const neg = (x: Tensor): Tensor => applyUnary(negOp, x, undefined);
/** |x| */
export const abs = (x: Tensor): Tensor => applyUnary(absOp, x, undefined);
/** -1, 0 or 1 by the sign of x (no gradient). */
export const sign = (x: Tensor): Tensor => applyUnary(signOp, x, undefined);
/** e^x */
export const exp = (x: Tensor): Tensor => applyUnary(expOp, x, undefined);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => applyUnary(logOp, x, undefined);
/** log(1 + x), accurate near 0. */
export const log1p = (x: Tensor): Tensor => applyUnary(log1pOp, x, undefined);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => applyUnary(sqrtOp, x, undefined);
/** 1 / sqrt(x). */
export const rsqrt = (x: Tensor): Tensor => applyUnary(rsqrtOp, x, undefined);
/** Sine. */
export const sin = (x: Tensor): Tensor => applyUnary(sinOp, x, undefined);
/** Cosine. */
export const cos = (x: Tensor): Tensor => applyUnary(cosOp, x, undefined);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => applyUnary(tanhOp, x, undefined);
/** 1 / (1 + e^-x). */
export const sigmoid = (x: Tensor): Tensor => applyUnary(sigmoidOp, x, undefined);
/** max(x, 0). */
export const relu = (x: Tensor): Tensor => applyUnary(reluOp, x, undefined);
/** The error function. */
export const erf = (x: Tensor): Tensor => applyUnary(erfOp, x, undefined);
/** log(1 + e^x). */
export const softplus = (x: Tensor): Tensor => applyUnary(softplusOp, x, undefined);
/** Limits values to [min, max] (either bound may be omitted). */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  if (min > max) throw new RangeError(`clamp: min (${min}) is greater than max (${max})`);
  return applyUnary(clampOp, x, { min, max });
}
