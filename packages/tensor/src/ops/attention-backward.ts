// The gradient of attention written as two composite ops (FlashAttention-2's split), so a backend can
// fuse each without ever holding a (T, S) matrix in memory and without atomics:
//   attentionGradQ  -> dQ                      (B, H, T, D)   one pass over keys per query tile
//   attentionGradKV -> [dK, dV] stacked on a new leading dim of 2: (2, B, Hkv, S, D), summed over
//                      the H/Hkv query heads of each kv head; one pass over queries per key tile
// Both take the softmax's log-sum-exp saved by the forward (`lse`, (B, H, T)) and
// delta = rowsum(dO ∘ O) - dLse ((B, H, T)), so the probabilities are recomputed as exp(s - lse)
// and dS = P ∘ (dP - delta). Their decompositions are the reference (and the CPU path); they have no
// vjp of their own, so a higher-order gradient differentiates through the decomposition.
import { apply, defineOp, type CompositeDef } from '../op.js';
import type { OutputSpec } from '../backend.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { mul, sub } from './binary.js';
import { concat } from './concat.js';
import { matmul } from './matmul.js';
import { transpose } from './permute.js';
import { sum } from './reduce.js';
import { exp } from './unary.js';
import { squeeze, unsqueeze } from './squeeze.js';
import { type AttentionAttrs, dropoutScale, maskedScores, repeatHeads, sumHeadGroups } from './attention-scores.js';

/** Inputs of both gradient ops: q, k, v, dO, lse, delta and the mask when attrs.hasMask. */
function checkGradInputs(name: string, inputs: readonly Tensor[], attrs: AttentionAttrs): void {
  const [q, k, v, dO, lse, delta] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const [b, h, t] = q.shape as [number, number, number, number];
  const ok =
    inputs.length === (attrs.hasMask ? 7 : 6) &&
    q.rank === 4 && k.rank === 4 && v.rank === 4 &&
    dO.shape.join() === q.shape.join() &&
    lse.shape.join() === [b, h, t].join() &&
    delta.shape.join() === [b, h, t].join();
  if (!ok) {
    throw new RangeError(
      `${name}: expected q (B,H,T,D), k, v (B,Hkv,S,D), dO like q, lse and delta (B,H,T)${attrs.hasMask ? ', mask' : ''}; ` +
        `got ${inputs.map((x) => fmtShape(x.shape)).join(', ')}`,
    );
  }
}

/** P = exp(s - lse) (dropout not applied) and dS = P ∘ (dP - delta) with dP the gradient of the undropped weights: both (B, H, T, S). */
function probabilitiesAndScoreGrad(inputs: readonly Tensor[], attrs: AttentionAttrs): { p: Tensor; pDropped: Tensor; dS: Tensor } {
  const [q, k, v, dO, lse, delta, mask] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor | undefined];
  const p = exp(sub(maskedScores(q, k, attrs.hasMask ? mask : undefined, attrs), unsqueeze(lse, -1)));
  let dP = matmul(dO, transpose(repeatHeads(v, q.shape[1]!))); // (B, H, T, S)
  let pDropped = p;
  if (attrs.dropoutP > 0) {
    const keep = dropoutScale(p, attrs);
    dP = mul(dP, keep);
    pDropped = mul(p, keep);
  }
  return { p, pDropped, dS: mul(p, sub(dP, unsqueeze(delta, -1))) };
}

/** dQ of attention: (B, H, T, D). */
export const attentionGradQOp: CompositeDef<AttentionAttrs> = defineOp<AttentionAttrs>({
  name: 'attentionGradQ',
  kind: 'composite',
  differentiable: true,
  fusedWhen: (_inputs, attrs) => attrs.dropoutP === 0,
  infer: (inputs, attrs): OutputSpec => {
    checkGradInputs('attentionGradQ', inputs, attrs);
    return { shape: [...inputs[0]!.shape], dtype: inputs[0]!.dtype };
  },
  decompose: (inputs, attrs) => {
    const { dS } = probabilitiesAndScoreGrad(inputs, attrs);
    return mul(matmul(dS, repeatHeads(inputs[1]!, inputs[0]!.shape[1]!)), attrs.scale);
  },
});

/** dK and dV of attention stacked: (2, B, Hkv, S, D). */
export const attentionGradKVOp: CompositeDef<AttentionAttrs> = defineOp<AttentionAttrs>({
  name: 'attentionGradKV',
  kind: 'composite',
  differentiable: true,
  fusedWhen: (_inputs, attrs) => attrs.dropoutP === 0,
  infer: (inputs, attrs): OutputSpec => {
    checkGradInputs('attentionGradKV', inputs, attrs);
    return { shape: [2, ...inputs[1]!.shape], dtype: inputs[1]!.dtype };
  },
  decompose: (inputs, attrs) => {
    const [q, k, , dO] = inputs as [Tensor, Tensor, Tensor, Tensor];
    const { pDropped, dS } = probabilitiesAndScoreGrad(inputs, attrs);
    const hkv = k.shape[1]!;
    const dK = sumHeadGroups(mul(matmul(transpose(dS), q), attrs.scale), hkv);
    const dV = sumHeadGroups(matmul(transpose(pDropped), dO), hkv);
    return concat([unsqueeze(dK, 0), unsqueeze(dV, 0)], 0);
  },
});

/**
 * The vjp of attention given its output o (B, H, T, D), the saved lse (B, H, T), the output gradient
 * dO and the gradient of lse (null when only o was used): gradients of q, k, v and an additive mask.
 */
export function attentionVjp(
  inputs: readonly Tensor[],
  attrs: AttentionAttrs,
  needsGrad: readonly boolean[],
  o: Tensor,
  lse: Tensor,
  dO: Tensor,
  dLse: Tensor | null,
): (Tensor | null)[] {
  const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
  let delta = sum(mul(dO, o), -1); // rowsum(dO ∘ O): (B, H, T)
  if (dLse) delta = sub(delta, dLse);
  const gradInputs = [q, k, v, dO, lse, delta, ...(attrs.hasMask ? [mask!] : [])];
  const dq = needsGrad[0] ? apply(attentionGradQOp, gradInputs, attrs) : null;
  let dk: Tensor | null = null;
  let dv: Tensor | null = null;
  if (needsGrad[1] || needsGrad[2]) {
    const dkv = apply(attentionGradKVOp, gradInputs, attrs);
    dk = squeeze(dkv.slice(0, 0, 1), 0);
    dv = squeeze(dkv.slice(0, 1, 2), 0);
  }
  // A float mask that requires grad (a learnt bias) gets dS, the gradient of the scores; this one
  // gradient needs the (B, H, T, S) matrix, so it is formed only when asked for.
  const dMask = attrs.hasMask && needsGrad[3] && mask!.dtype !== 'bool' ? probabilitiesAndScoreGrad(gradInputs, attrs).dS : null;
  return [dq, dk, dv, ...(attrs.hasMask ? [dMask] : [])];
}
