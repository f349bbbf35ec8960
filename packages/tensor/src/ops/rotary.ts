import type { OutputSpec } from '../backend.js';
import { promoteTypes } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, mul, sub } from './binary.js';
import { concat } from './concat.js';
import { tensor } from './creation.js';
import { slice } from './slice.js';
import { neg } from './unary.js';

/** rotateHalf([x1, x2]) = [-x2, x1] over the last dim. */
function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.rank - 1]!;
  const half = d / 2;
  return concat([neg(slice(x, -1, half, d)), slice(x, -1, 0, half)], -1);
}

/** The broadcast shape and promoted dtype of three operands, as the decompositions' add/mul give. */
function broadcastSpec([a, b, c]: readonly Tensor[], where: string): OutputSpec {
  return {
    shape: broadcastShapes(broadcastShapes(a!.shape, b!.shape, where), c!.shape, where),
    dtype: promoteTypes(promoteTypes(a!.dtype, b!.dtype), c!.dtype),
  };
}

/** Rotary position embedding in Hugging Face's rotate-half layout: x * cos + rotateHalf(x) * sin. */
export const rotaryOp = defineOp<undefined>({
  name: 'rotary',
  kind: 'composite',
  differentiable: true,
  infer: (inputs) => broadcastSpec(inputs, 'rotary'),
  decompose: ([x, cos, sin]) => add(mul(x!, cos!), mul(rotateHalf(x!), sin!)),
  // cos and sin are usually constant tables: their gradients (dy * x, dy * rotateHalf(x)) only when asked.
  vjp: (dy, { inputs: [x, cos, sin], needsGrad }) => [
    needsGrad[0] ? apply(rotaryBackwardOp, [dy, cos!, sin!], undefined) : null,
    needsGrad[1] ? mul(dy, x!) : null,
    needsGrad[2] ? mul(dy, rotateHalf(x!)) : null,
  ],
});

/**
 * Gradient of rotary with respect to x, given dy, cos and sin: dy * cos + rotateHalfᵀ(dy * sin), where
 * rotateHalfᵀ([a1, a2]) = [a2, -a1] = -rotateHalf(a). With the halves of sin equal (as rotaryTables
 * builds them) this is rotary(dy, cos, -sin).
 */
export const rotaryBackwardOp = defineOp<undefined>({
  name: 'rotaryBackward',
  kind: 'composite',
  // Differentiable through its decomposition, for higher-order gradients.
  differentiable: true,
  infer: (inputs) => broadcastSpec(inputs, 'rotaryBackward'),
  decompose: ([dy, cos, sin]) => sub(mul(dy!, cos!), rotateHalf(mul(dy!, sin!))),
});

/** Applies rotary embedding to x (..., T, D) with cos/sin tables broadcastable to it (usually (T, D)). */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const d = x.shape[x.rank - 1]!;
  if (d % 2 !== 0) throw new RangeError(`applyRotary: the last dim must be even (got ${fmtShape(x.shape)})`);
  if (cos.shape[cos.rank - 1] !== d || sin.shape[sin.rank - 1] !== d) {
    throw new RangeError(`applyRotary: cos ${fmtShape(cos.shape)} and sin ${fmtShape(sin.shape)} must end in ${d} like x ${fmtShape(x.shape)}`);
  }
  return apply(rotaryOp, [x, cos, sin], undefined);
}

/**
 * cos and sin tables (T, D) for positions offset..offset+T-1 with inverse frequencies
 * theta^(-2i/D), duplicated across the two halves as Hugging Face builds them. `invFreq`
 * overrides the frequencies (rope scaling lives with the model that chooses it).
 */
export function rotaryTables(
  length: number,
  dim: number,
  opts: { theta?: number; offset?: number; invFreq?: readonly number[]; device?: string; dtype?: 'f32' | 'f64' } = {},
): { cos: Tensor; sin: Tensor } {
  const theta = opts.theta ?? 10000;
  const half = dim / 2;
  const inv = opts.invFreq ?? Array.from({ length: half }, (_, i) => 1 / theta ** ((2 * i) / dim));
  const freqs = new Float64Array(length * dim);
  for (let t = 0; t < length; t++) {
    const pos = t + (opts.offset ?? 0);
    for (let i = 0; i < half; i++) {
      const angle = pos * inv[i]!;
      freqs[t * dim + i] = angle;
      freqs[t * dim + i + half] = angle;
    }
  }
  // Computed in f64 on the host and uploaded, so tables are exact to the dtype on every backend.
  const c = freqs.map(Math.cos);
  const s = freqs.map(Math.sin);
  const dtype = opts.dtype ?? 'f32';
  return {
    cos: tensor(c, { shape: [length, dim], dtype, device: opts.device }),
    sin: tensor(s, { shape: [length, dim], dtype, device: opts.device }),
  };
}
