// The pieces of attention's decomposition that its forward and its gradient ops share: repeated
// key/value heads for grouped queries, the masked scaled scores and the dropout keep-mask drawn from a
// stream reserved when the op was called (so the backward redraws exactly the forward's mask).
import { Generator, type RandomStream } from '../random.js';
import type { Tensor } from '../tensor.js';
import { add, ge, le, mul, where } from './binary.js';
import { cast } from './cast.js';
import { arange, rand, scalarLike } from './creation.js';
import { expand } from './expand.js';
import { matmul } from './matmul.js';
import { transpose } from './permute.js';
import { sum } from './reduce.js';
import { reshape } from './view.js';

/** Attributes shared by attention and its gradient ops. */
export interface AttentionAttrs {
  causal: boolean;
  scale: number;
  hasMask: boolean;
  dropoutP: number;
  /** Where the dropout mask is drawn from, reserved once per call (undefined without dropout). */
  dropoutStream: RandomStream | undefined;
}

/** Repeats each of Hkv key/value heads H/Hkv times: (B, Hkv, S, D) -> (B, H, S, D). */
export function repeatHeads(x: Tensor, heads: number): Tensor {
  const [b, hkv, s, d] = x.shape as [number, number, number, number];
  if (hkv === heads) return x;
  return reshape(expand(reshape(x, [b, hkv, 1, s, d]), [b, hkv, heads / hkv, s, d]), [b, heads, s, d]);
}

/** Sums the H/Hkv query heads of each key/value head: (B, H, S, D) -> (B, Hkv, S, D). */
export function sumHeadGroups(x: Tensor, kvHeads: number): Tensor {
  const [b, h, s, d] = x.shape as [number, number, number, number];
  if (h === kvHeads) return x;
  return sum(reshape(x, [b, kvHeads, h / kvHeads, s, d]), 2);
}

/** q kᵀ · scale with the causal and padding masks applied (-inf where a query may not attend): (B, H, T, S). */
export function maskedScores(q: Tensor, k: Tensor, mask: Tensor | undefined, { causal, scale }: AttentionAttrs): Tensor {
  let scores = mul(matmul(q, transpose(repeatHeads(k, q.shape[1]!))), scale);
  const t = q.shape[2]!;
  const s = k.shape[2]!;
  const negInf = scalarLike(-Infinity, scores);
  if (causal) {
    const i = reshape(arange(0, t, 1, { device: q.device }), [t, 1]);
    const j = arange(0, s, 1, { device: q.device });
    scores = where(le(j, add(i, s - t)), scores, negInf);
  }
  if (mask) scores = mask.dtype === 'bool' ? where(mask, scores, negInf) : add(scores, mask);
  return scores;
}

/** The inverted-dropout factor (0 or 1/(1-p)) of every attention weight, redrawn from the reserved stream. */
export function dropoutScale(like: Tensor, { dropoutP, dropoutStream }: AttentionAttrs): Tensor {
  const generator = new Generator(dropoutStream!.seed).setState(dropoutStream!);
  const keep = cast(ge(rand(like.shape, { device: like.device, generator }), dropoutP), like.dtype);
  return mul(keep, 1 / (1 - dropoutP));
}
