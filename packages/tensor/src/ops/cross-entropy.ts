import { isInt } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, div, mul, ne, where } from './binary.js';
import { cast } from './cast.js';
import { gather } from './gather.js';
import { mean, sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
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

/** Cross-entropy of logits (..., C) against integer targets (...). */
export const crossEntropyOp = defineOp<CrossEntropyAttrs>({
  name: 'crossEntropy',
  kind: 'composite',
  differentiable: true,
  decompose: ([logits, targets], { ignoreIndex, labelSmoothing, reduction }) => {
    const logp = logSoftmax(logits!, -1);
    const valid = ne(targets!, ignoreIndex);
    const safe = where(valid, targets!, 0);
    let loss = neg(squeeze(gather(logp, -1, unsqueeze(safe, -1)), -1));
    if (labelSmoothing > 0) loss = add(mul(loss, 1 - labelSmoothing), mul(neg(mean(logp, -1)), labelSmoothing));
    const validF = cast(valid, loss.dtype);
    loss = mul(loss, validF);
    if (reduction === 'none') return loss;
    if (reduction === 'sum') return sum(loss);
    return div(sum(loss), sum(validF)); // NaN when every target is ignored, as in PyTorch
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

