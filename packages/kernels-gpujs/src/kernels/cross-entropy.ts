// Fused cross-entropy: per-position losses (lse - (1 - s) x[t] - s mean(x), 0 where the target is
// ignored) and their gradient ((softmax - smoothed one-hot) · g), from the rows' log-sum-exp (and mean).
// A target outside [0, C) (and not ignoreIndex) cannot raise inside a kernel: index-bounds.ts raises
// the CPU backend's error for it at the next read or sync.
import type { CrossEntropyRowAttrs, TensorView } from '@tessera/tensor';
import type { GpuJsContext } from '../gpujs-context.js';
import { viewOfHandle, type GpuJsKernel } from '../gpujs-kernel.js';
import { checkIndexBounds } from '../index-bounds.js';
import { launchMap } from './map.js';
import { rowStat } from './row-stats.js';
import { expCode } from './scalar-functions.js';

/** A view of the logits' row starts: the leading dims, with a trailing size-1 dim for the class. */
function rowStarts(logits: TensorView): TensorView {
  return { storage: logits.storage, dtype: logits.dtype, offset: logits.offset, shape: [...logits.shape.slice(0, -1), 1], strides: [...logits.strides.slice(0, -1), 0] };
}

/** `v` with a trailing size-1 dim (per-row values broadcast over the classes). Built field by field: kernels get Tensors, whose fields are not all own properties. */
function withClassDim(v: TensorView): TensorView {
  return { storage: v.storage, dtype: v.dtype, offset: v.offset, shape: [...v.shape, 1], strides: [...v.strides, 0] };
}

/** What an out-of-range target did, for index-bounds.ts's message. */
const RAN_WITH = 'the target read from outside its row (the loss and gradient of that row are not valid)';

/** Records the check that every target is a class of `logits` or `ignoreIndex` (axis: the class dim, as the CPU backend names it). */
function checkTargets(ctx: GpuJsContext, logits: TensorView, targets: TensorView, ignoreIndex: number): void {
  checkIndexBounds(ctx, 'crossEntropy', targets, targets.shape.length, logits.shape[logits.shape.length - 1]!, { skip: ignoreIndex, ranWith: RAN_WITH });
}

/** The losses (the targets' shape) of logits (..., C). */
export const crossEntropyLossesKernel: GpuJsKernel<CrossEntropyRowAttrs> = (ctx, [logits, targets], { ignoreIndex, labelSmoothing }, out) => {
  checkTargets(ctx, logits!, targets!, ignoreIndex);
  const axis = logits!.shape.length - 1;
  const rows = logits!.shape.map((d, i) => (i === axis ? 1 : d));
  const lse = rowStat(ctx, 'crossEntropyLosses', logits!, axis, 'lse');
  const mean = labelSmoothing > 0 ? rowStat(ctx, 'crossEntropyLosses', logits!, axis, 'mean') : null;
  const t = withClassDim(targets!);
  // Computed over (..., 1): the row's first logit sits at i0, the target's at i0 + t * step (P2).
  const setup = [
    'let valid = 0.0;',
    'let ign = P0;',
    'if (v1 != ign) { valid = 1.0; }',
    'let safe = v1 * valid;',
    'let ti = i0 + safe * P2;',
    'let xt = x0[ti];',
    'let loss = (v2 - xt) * (1.0 - P1) + (v2 - v3) * P1;',
  ].join('\n');
  const y = launchMap(
    ctx,
    'crossEntropyLosses',
    [rowStarts(logits!), t, viewOfHandle(lse, rows), viewOfHandle(mean ?? lse, rows)],
    rows,
    'loss * valid',
    [ignoreIndex, labelSmoothing, logits!.strides[axis]!],
    setup,
  );
  ctx.free(lse);
  if (mean !== null) ctx.free(mean);
  return y;
};

/** d loss / d logits given the losses' gradient g. */
export const crossEntropyBackwardKernel: GpuJsKernel<CrossEntropyRowAttrs> = (ctx, [logits, targets, g], { ignoreIndex, labelSmoothing }, out) => {
  checkTargets(ctx, logits!, targets!, ignoreIndex);
  const axis = logits!.shape.length - 1;
  const classes = logits!.shape[axis]!;
  const rows = logits!.shape.map((d, i) => (i === axis ? 1 : d));
  const lse = rowStat(ctx, 'crossEntropyBackward', logits!, axis, 'lse');
  const t = withClassDim(targets!);
  const gRows = withClassDim(g!);
  // c5 is the class coordinate (the innermost of the padded output coordinates).
  // exp passes a NaN log-sum-exp (a row with NaN or an infinite max) on, as on the CPU; WebGL's exp(NaN) is +∞.
  const setup = [
    'let valid = 0.0;',
    'let ign = P0;',
    'if (v2 != ign) { valid = 1.0; }',
    'let oh = 0.0;',
    'if (c5 == v2) { oh = 1.0; }',
    'let q = oh * (1.0 - P1) + P1 / P2;',
    'let d = v0 - v1;',
    expCode('d', 'sm'),
  ].join('\n');
  const y = launchMap(ctx, 'crossEntropyBackward', [logits!, viewOfHandle(lse, rows), t, gRows], out.shape, '(sm - q) * v3 * valid', [ignoreIndex, labelSmoothing, classes], setup);
  ctx.free(lse);
  return y;
};
