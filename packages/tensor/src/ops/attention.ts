import { apply, defineOp } from '../op.js';
import type { Generator } from '../random.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, le, mul, where } from './binary.js';
import { arange, scalarLike } from './creation.js';
import { dropout } from './dropout.js';
import { expand } from './expand.js';
import { matmul } from './matmul.js';
import { transpose } from './permute.js';
import { softmax } from './softmax.js';
import { reshape } from './view.js';

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

export interface AttentionAttrs {
  causal: boolean;
  scale: number;
  hasMask: boolean;
  dropoutP: number;
  generator: Generator | undefined;
}

/** Repeats each of Hkv key/value heads H/Hkv times: (B, Hkv, S, D) -> (B, H, S, D). */
function repeatHeads(x: Tensor, heads: number): Tensor {
  const [b, hkv, s, d] = x.shape as [number, number, number, number];
  if (hkv === heads) return x;
  return reshape(expand(reshape(x, [b, hkv, 1, s, d]), [b, hkv, heads / hkv, s, d]), [b, heads, s, d]);
}

/**
 * softmax(q k^T * scale + mask) v over (B, H, T, D) queries and (B, Hkv, S, D) keys/values, with
 * grouped-query heads, a causal mask, a padding mask (bool: true = attend; or additive float) and dropout.
 */
export const attentionOp = defineOp<AttentionAttrs>({
  name: 'attention',
  kind: 'composite',
  differentiable: true,
  decompose: (inputs, { causal, scale, hasMask, dropoutP, generator }) => {
    const [q, k0, v0] = inputs as [Tensor, Tensor, Tensor];
    const heads = q.shape[1]!;
    const k = repeatHeads(k0, heads);
    const v = repeatHeads(v0, heads);
    let scores = mul(matmul(q, transpose(k)), scale); // (B, H, T, S)
    const t = q.shape[2]!;
    const s = k.shape[2]!;
    const negInf = scalarLike(-Infinity, scores);
    if (causal) {
      const i = reshape(arange(0, t, 1, { device: q.device }), [t, 1]);
      const j = arange(0, s, 1, { device: q.device });
      scores = where(le(j, add(i, s - t)), scores, negInf);
    }
    if (hasMask) {
      const mask = inputs[3]!;
      scores = mask.dtype === 'bool' ? where(mask, scores, negInf) : add(scores, mask);
    }
    let weights = softmax(scores, -1);
    if (dropoutP > 0) weights = dropout(weights, dropoutP, { generator });
    return matmul(weights, v);
  },
});

/** Scaled dot-product attention (PyTorch's F.scaled_dot_product_attention, with GQA). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new RangeError(`attention: q, k, v must be (B, H, T, D); got q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  }
  const [b, h, , d] = q.shape as [number, number, number, number];
  const [bk, hkv, s, dk] = k.shape as [number, number, number, number];
  if (bk !== b || v.shape[0] !== b || dk !== d || v.shape[1] !== hkv || v.shape[2] !== s || h % hkv !== 0) {
    throw new RangeError(
      `attention: incompatible shapes q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}; ` +
        'expected equal batch, equal head dim for q and k, k and v with the same heads and length, and q heads a multiple of kv heads',
    );
  }
  const dropoutP = opts.dropoutP ?? 0;
  if (dropoutP < 0 || dropoutP >= 1) throw new RangeError(`attention: dropoutP must be in [0, 1) (got ${dropoutP})`);
  const attrs: AttentionAttrs = { causal: !!opts.causal, scale: opts.scale ?? 1 / Math.sqrt(d), hasMask: !!mask, dropoutP, generator: opts.generator };
  return apply(attentionOp, mask ? [q, k, v, mask] : [q, k, v], attrs);
}

