import { isGradEnabled } from '../grad-mode.js';
import { apply, defineOp, type CompositeDef } from '../op.js';
import { defaultGenerator, type Generator } from '../random.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { mul, sub } from './binary.js';
import { concat } from './concat.js';
import { matmul } from './matmul.js';
import { logsumexp } from './reduce.js';
import { softmax } from './softmax.js';
import { squeeze } from './squeeze.js';
import { exp } from './unary.js';
import { attentionVjp } from './attention-backward.js';
import { type AttentionAttrs, dropoutScale, maskedScores, repeatHeads } from './attention-scores.js';

export type { AttentionAttrs } from './attention-scores.js';

/** Options of scaled dot-product attention. */
export interface AttentionOptions {
  /** Causal masking, aligned to the bottom right (query i sees keys j <= i + S - T), so a KV cache works. */
  causal?: boolean;
  /** Softmax scale (default 1/sqrt(head dim)). */
  scale?: number;
  /** Dropout on the attention weights (only when > 0). */
  dropoutP?: number;
  generator?: Generator;
}

/** Output shape of attention: q's (B, H, T) with v's head dim, plus `extra` columns. */
function outputSpec(inputs: readonly Tensor[], extra: number): { shape: number[]; dtype: Tensor['dtype'] } {
  const [q, , v] = inputs as [Tensor, Tensor, Tensor];
  return { shape: [...q.shape.slice(0, 3), v.shape[3]! + extra], dtype: q.dtype };
}

/** Dropout is drawn by the decomposition (fused kernels have no Philox stream of their own). */
const withoutDropout = (_inputs: readonly Tensor[], attrs: AttentionAttrs): boolean => attrs.dropoutP === 0;

/**
 * softmax(q k^T * scale + mask) v over (B, H, T, D) queries and (B, Hkv, S, D) keys/values, with
 * grouped-query heads, a causal mask, a padding mask (bool: true = attend; or additive float) and dropout.
 * Its vjp recomputes the log-sum-exp with attentionForward (scaledDotProductAttention saves it instead).
 */
export const attentionOp: CompositeDef<AttentionAttrs> = defineOp<AttentionAttrs>({
  name: 'attention',
  kind: 'composite',
  differentiable: true,
  fusedWhen: withoutDropout,
  infer: (inputs) => outputSpec(inputs, 0),
  decompose: (inputs, attrs) => {
    const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
    let weights = softmax(maskedScores(q, k, attrs.hasMask ? mask : undefined, attrs), -1);
    if (attrs.dropoutP > 0) weights = mul(weights, dropoutScale(weights, attrs));
    return matmul(weights, repeatHeads(v, q.shape[1]!));
  },
  vjp: (dy, { inputs, output, attrs, needsGrad }) => {
    const packed = apply(attentionForwardOp, inputs, attrs);
    const d = output.shape[3]!;
    return attentionVjp(inputs, attrs, needsGrad, output, squeeze(packed.slice(-1, d), -1), dy, null);
  },
});

/**
 * Attention that also returns the softmax's log-sum-exp for its backward: (B, H, T, D + 1), the
 * output in [..., :D] and lse = log Σ_j exp(s_ij) in [..., D]. What scaledDotProductAttention runs
 * when gradients are recorded, so the backward never recomputes the forward.
 */
export const attentionForwardOp: CompositeDef<AttentionAttrs> = defineOp<AttentionAttrs>({
  name: 'attentionForward',
  kind: 'composite',
  differentiable: true,
  fusedWhen: withoutDropout,
  infer: (inputs) => outputSpec(inputs, 1),
  decompose: (inputs, attrs) => {
    const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
    const scores = maskedScores(q, k, attrs.hasMask ? mask : undefined, attrs);
    const lse = logsumexp(scores, -1, true); // (B, H, T, 1)
    let weights = exp(sub(scores, lse));
    if (attrs.dropoutP > 0) weights = mul(weights, dropoutScale(weights, attrs));
    return concat([matmul(weights, repeatHeads(v, q.shape[1]!)), lse], -1);
  },
  vjp: (dy, { inputs, output, attrs, needsGrad }) => {
    const d = output.shape[3]! - 1;
    const lastCol = (x: Tensor): Tensor => squeeze(x.slice(-1, d), -1);
    return attentionVjp(inputs, attrs, needsGrad, output.slice(-1, 0, d), lastCol(output), dy.slice(-1, 0, d), lastCol(dy));
  },
});

/**
 * Scaled dot-product attention (PyTorch's F.scaled_dot_product_attention, with GQA).
 *
 * Non-finite inputs at masked keys: a NaN or infinity in k or v at a key a query does not see
 * (masked, causally hidden, or of zero weight) may propagate into that query's output and gradients,
 * or be left out: the decomposition multiplies the key's weight of 0 in (0 · Infinity = NaN), as do
 * gpu.js's kernels and WebGPU's tiled kernel for head dims above 128, while kernels-cpu's fused
 * kernels leave the key out (finite). Do not rely on either; keep padding positions finite.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new RangeError(`attention: q, k, v must be (B, H, T, D); got q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  }
  const [b, h, t, d] = q.shape as [number, number, number, number];
  const [bk, hkv, s, dk] = k.shape as [number, number, number, number];
  if (bk !== b || v.shape[0] !== b || dk !== d || v.shape[1] !== hkv || v.shape[2] !== s || h % hkv !== 0) {
    throw new RangeError(
      `attention: incompatible shapes q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}; ` +
        'expected equal batch, equal head dim for q and k, k and v with the same heads and length, and q heads a multiple of kv heads',
    );
  }
  const dropoutP = opts.dropoutP ?? 0;
  if (dropoutP < 0 || dropoutP >= 1) throw new RangeError(`attention: dropoutP must be in [0, 1) (got ${dropoutP})`);
  // The dropout mask's counters are reserved now, so the backward redraws the forward's exact mask.
  const dropoutStream = dropoutP > 0 ? (opts.generator ?? defaultGenerator).next(b * h * t * s) : undefined;
  const attrs: AttentionAttrs = { causal: !!opts.causal, scale: opts.scale ?? 1 / Math.sqrt(d), hasMask: !!mask, dropoutP, dropoutStream };
  const inputs = mask ? [q, k, v, mask] : [q, k, v];
  if (!(isGradEnabled() && inputs.some((x) => x.requiresGrad))) return apply(attentionOp, inputs, attrs);
  // Training: keep the log-sum-exp beside the output (one extra column) for the backward.
  return apply(attentionForwardOp, inputs, attrs).slice(-1, 0, v.shape[3]!);
}
