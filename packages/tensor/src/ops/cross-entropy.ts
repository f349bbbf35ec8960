import { isFloat, isInt, promoteTypes } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, div, mul, ne, sub, where } from './binary.js';
import { cast } from './cast.js';
import { gather } from './gather.js';
import { mean, sum } from './reduce.js';
import { expand } from './expand.js';
import { oneHot } from './masks.js';
import { logSoftmax, softmax } from './softmax.js';
import { squeeze, unsqueeze } from './squeeze.js';
import { neg } from './unary.js';

/** Options of cross-entropy, with PyTorch's defaults. */
export interface CrossEntropyOptions {
  /** Targets equal to this contribute nothing and are not counted (default -100). */
  ignoreIndex?: number;
  /** Mixes the one-hot target with a uniform distribution (default 0). */
  labelSmoothing?: number;
  /** 'mean' over non-ignored targets (default), 'sum', or 'none' (per-position losses, 0 where ignored). */
  reduction?: 'mean' | 'sum' | 'none';
}

export interface CrossEntropyAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: 'mean' | 'sum' | 'none';
}

/** Attributes of the per-position losses and of the gradient: the reduction happens outside. */
export interface CrossEntropyRowAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
}

/**
 * Per-position cross-entropy of logits (..., C) against integer targets (...): lse - (1 - s) x[t] -
 * s mean(x) for smoothing s, 0 where the target is ignored. A fused kernel can stream over C (online
 * max and sum) and never hold the softmax.
 */
export const crossEntropyLossesOp = defineOp<CrossEntropyRowAttrs>({
  name: 'crossEntropyLosses',
  kind: 'composite',
  differentiable: true,
  // Used only when a backend registers a fused kernel: the decomposition's result dtype.
  infer: ([logits, targets]) => ({ shape: targets!.shape, dtype: isFloat(logits!.dtype) ? logits!.dtype : 'f32' }),
  decompose: ([logits, targets], { ignoreIndex, labelSmoothing }) => {
    const logp = logSoftmax(logits!, -1);
    const valid = ne(targets!, ignoreIndex);
    const safe = where(valid, targets!, 0);
    let loss = neg(squeeze(gather(logp, -1, unsqueeze(safe, -1)), -1));
    if (labelSmoothing > 0) loss = add(mul(loss, 1 - labelSmoothing), mul(neg(mean(logp, -1)), labelSmoothing));
    return mul(loss, cast(valid, loss.dtype));
  },
  vjp: (dy, { inputs: [logits, targets], attrs }) => [apply(crossEntropyBackwardOp, [logits!, targets!, dy], attrs), null],
});

/**
 * Gradient of the per-position losses with respect to the logits, given the losses' gradient g (...):
 * (softmax(logits) - q) * g * valid, q the target distribution (1 - s) onehot(t) + s / C. Recomputes
 * the row statistics from the logits.
 */
export const crossEntropyBackwardOp = defineOp<CrossEntropyRowAttrs>({
  name: 'crossEntropyBackward',
  kind: 'composite',
  // Differentiable through its decomposition, for higher-order gradients.
  differentiable: true,
  infer: ([logits, , g]) => ({ shape: logits!.shape, dtype: promoteTypes(isFloat(logits!.dtype) ? logits!.dtype : 'f32', g!.dtype) }),
  decompose: ([logits, targets, g], { ignoreIndex, labelSmoothing }) => {
    const c = logits!.shape[logits!.rank - 1]!;
    const valid = ne(targets!, ignoreIndex);
    const p = softmax(logits!, -1);
    let q = oneHot(where(valid, targets!, 0), c, p.dtype);
    if (labelSmoothing > 0) q = add(mul(q, 1 - labelSmoothing), labelSmoothing / c);
    return mul(sub(p, q), unsqueeze(mul(g!, cast(valid, g!.dtype)), -1));
  },
});

/** Cross-entropy of logits (..., C) against integer targets (...), reduced. */
export const crossEntropyOp = defineOp<CrossEntropyAttrs>({
  name: 'crossEntropy',
  kind: 'composite',
  differentiable: true,
  decompose: ([logits, targets], { ignoreIndex, labelSmoothing, reduction }) => {
    const loss = apply(crossEntropyLossesOp, [logits!, targets!], { ignoreIndex, labelSmoothing });
    if (reduction === 'none') return loss;
    if (reduction === 'sum') return sum(loss);
    return div(sum(loss), sum(cast(ne(targets!, ignoreIndex), loss.dtype))); // NaN when every target is ignored, as in PyTorch
  },
  // The reduction's gradient per position (dy, dy, or dy / count), then one fused-able backward.
  vjp: (dy, { inputs: [logits, targets], attrs: { ignoreIndex, labelSmoothing, reduction } }) => {
    let g = dy;
    if (reduction === 'mean') g = div(dy, sum(cast(ne(targets!, ignoreIndex), dy.dtype)));
    if (reduction !== 'none') g = expand(g, targets!.shape);
    return [apply(crossEntropyBackwardOp, [logits!, targets!, g], { ignoreIndex, labelSmoothing }), null];
  },
});

/** Cross-entropy with ignore index, label smoothing and mean over non-ignored targets (PyTorch's F.cross_entropy). */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  if (!isInt(targets.dtype)) throw new TypeError(`crossEntropy: targets must be integer class ids (got ${targets.dtype}); cast them to i32`);
  if (logits.rank !== targets.rank + 1 || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new RangeError(`crossEntropy: logits ${fmtShape(logits.shape)} must be targets ${fmtShape(targets.shape)} plus a class dim`);
  }
  const labelSmoothing = opts.labelSmoothing ?? 0;
  if (labelSmoothing < 0 || labelSmoothing > 1) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1] (got ${labelSmoothing})`);
  return apply(crossEntropyOp, [logits, targets], {
    ignoreIndex: opts.ignoreIndex ?? -100,
    labelSmoothing,
    reduction: opts.reduction ?? 'mean',
  });
}

