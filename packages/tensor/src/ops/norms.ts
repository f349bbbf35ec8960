import { isFloat, promoteTypes } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, mul, sub } from './binary.js';
import { cast } from './cast.js';
import { mean } from './reduce.js';
import { rsqrt } from './unary.js';

function checkWeight(where: string, x: Tensor, w: Tensor | undefined, what: string): void {
  const d = x.shape[x.rank - 1];
  if (w && (w.rank !== 1 || w.shape[0] !== d)) {
    throw new RangeError(`${where}: ${what} ${fmtShape(w.shape)} must be 1-D of the last dim's size ${d} (input ${fmtShape(x.shape)})`);
  }
}

/** Layer normalisation over the last dim: (x - mean) / sqrt(var + eps) * weight + bias (population variance). */
export const layerNormOp = defineOp<{ eps: number; hasWeight: boolean; hasBias: boolean }>({
  name: 'layerNorm',
  kind: 'composite',
  differentiable: true,
  // Used only when a backend registers a fused kernel: the decomposition's result dtype.
  infer: ([x, ...rest]) => ({ shape: x!.shape, dtype: rest.map((t) => t.dtype).reduce(promoteTypes, isFloat(x!.dtype) ? x!.dtype : 'f32') }),
  decompose: (inputs, { eps, hasWeight, hasBias }) => {
    const x = inputs[0]!;
    const centred = sub(x, mean(x, -1, true));
    let y = mul(centred, rsqrt(add(mean(mul(centred, centred), -1, true), eps)));
    let i = 1;
    if (hasWeight) y = mul(y, inputs[i++]!);
    if (hasBias) y = add(y, inputs[i]!);
    return y;
  },
  // dx through layerNormBackward (which recomputes mean and rstd); dWeight = dy * xhat, with xhat the
  // unweighted layerNorm (fused where a backend has it); dBias = dy. The engine sums both to (D).
  vjp: (dy, { inputs, attrs: { eps, hasWeight, hasBias }, needsGrad }) => {
    const x = inputs[0]!;
    const w = hasWeight ? inputs[1]! : undefined;
    const grads: (Tensor | null)[] = [needsGrad[0] ? apply(layerNormBackwardOp, w ? [x, dy, w] : [x, dy], { eps, hasWeight }) : null];
    if (hasWeight) grads.push(needsGrad[1] ? mul(dy, layerNorm(x, undefined, undefined, eps)) : null);
    if (hasBias) grads.push(needsGrad[hasWeight ? 2 : 1] ? dy : null);
    return grads;
  },
});

/** Statistics of layerNorm over the last dim, recomputed from x: the centred values and 1/sqrt(var + eps). */
function layerNormStats(x: Tensor, eps: number): { centred: Tensor; rstd: Tensor } {
  const centred = sub(x, mean(x, -1, true));
  return { centred, rstd: rsqrt(add(mean(mul(centred, centred), -1, true), eps)) };
}

/**
 * Gradient of layerNorm with respect to x, given x, dy and the weight (optional):
 * rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * weight and xhat the normalised x.
 */
export const layerNormBackwardOp = defineOp<{ eps: number; hasWeight: boolean }>({
  name: 'layerNormBackward',
  kind: 'composite',
  // Differentiable through its decomposition, for higher-order gradients.
  differentiable: true,
  // Used only when a backend registers a fused kernel: the decomposition's result dtype.
  infer: ([x, ...rest]) => ({ shape: x!.shape, dtype: rest.map((t) => t.dtype).reduce(promoteTypes, isFloat(x!.dtype) ? x!.dtype : 'f32') }),
  decompose: ([x, dy, w], { eps, hasWeight }) => {
    const { centred, rstd } = layerNormStats(x!, eps);
    const xhat = mul(centred, rstd);
    const g = hasWeight ? mul(dy!, w!) : dy!;
    return mul(rstd, sub(sub(g, mean(g, -1, true)), mul(xhat, mean(mul(g, xhat), -1, true))));
  },
});

/** LayerNorm over the last dim with optional weight and bias (PyTorch's F.layer_norm, eps 1e-5). */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  checkWeight('layerNorm', x, weight, 'weight');
  checkWeight('layerNorm', x, bias, 'bias');
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return apply(layerNormOp, inputs, { eps, hasWeight: !!weight, hasBias: !!bias });
}

/**
 * RMS normalisation over the last dim as Llama does it: x / sqrt(mean(x^2) + eps) computed in f32,
 * cast back to the input dtype, then scaled by weight.
 */
export const rmsNormOp = defineOp<{ eps: number; hasWeight: boolean }>({
  name: 'rmsNorm',
  kind: 'composite',
  differentiable: true,
  // Used only when a backend registers a fused kernel: the decomposition's result dtype.
  infer: ([x, w]) => ({ shape: x!.shape, dtype: w ? promoteTypes(x!.dtype, w.dtype) : x!.dtype }),
  decompose: (inputs, { eps, hasWeight }) => {
    const x = inputs[0]!;
    const xf = x.dtype === 'f64' ? x : cast(x, 'f32');
    const normed = cast(mul(xf, rsqrt(add(mean(mul(xf, xf), -1, true), eps))), x.dtype);
    return hasWeight ? mul(normed, inputs[1]!) : normed;
  },
  // dx through rmsNormBackward (which recomputes the rms); dWeight = dy * the unweighted rmsNorm.
  vjp: (dy, { inputs, attrs: { eps, hasWeight }, needsGrad }) => {
    const x = inputs[0]!;
    const dx = needsGrad[0] ? apply(rmsNormBackwardOp, hasWeight ? [x, dy, inputs[1]!] : [x, dy], { eps, hasWeight }) : null;
    return hasWeight ? [dx, needsGrad[1] ? mul(dy, rmsNorm(x, undefined, eps)) : null] : [dx];
  },
});

/**
 * Gradient of rmsNorm with respect to x, given x, dy and the weight (optional), with the forward's
 * precision: g = dy * weight rounded to x's dtype then widened to f32 (the casts' gradients), then
 * rstd * (g - xhat * mean(g * xhat)) in f32, cast back to x's dtype.
 */
export const rmsNormBackwardOp = defineOp<{ eps: number; hasWeight: boolean }>({
  name: 'rmsNormBackward',
  kind: 'composite',
  // Differentiable through its decomposition, for higher-order gradients.
  differentiable: true,
  infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  decompose: ([x, dy, w], { eps, hasWeight }) => {
    const xf = x!.dtype === 'f64' ? x! : cast(x!, 'f32');
    const rstd = rsqrt(add(mean(mul(xf, xf), -1, true), eps));
    const xhat = mul(xf, rstd);
    const g = cast(cast(hasWeight ? mul(dy!, w!) : dy!, x!.dtype), xf.dtype);
    return cast(mul(rstd, sub(g, mul(xhat, mean(mul(g, xhat), -1, true)))), x!.dtype);
  },
});

/** RMSNorm over the last dim with an optional weight (Llama's LlamaRMSNorm, eps 1e-6). */
export function rmsNorm(x: Tensor, weight?: Tensor, eps = 1e-6): Tensor {
  checkWeight('rmsNorm', x, weight, 'weight');
  return apply(rmsNormOp, weight ? [x, weight] : [x], { eps, hasWeight: !!weight });
}

