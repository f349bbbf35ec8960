import { apply, defineOp } from '../op.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { ge, mul } from './binary.js';
import { cast } from './cast.js';
import { rand } from './creation.js';

/** Zeroes each element with probability p and scales survivors by 1/(1-p) (inverted dropout). */
export const dropoutOp = defineOp<{ p: number; generator: Generator | undefined }>({
  name: 'dropout',
  kind: 'composite',
  differentiable: true,
  decompose: ([x], { p, generator }) => {
    const keep = cast(ge(rand(x!.shape, { device: x!.device, generator }), p), x!.dtype);
    return mul(x!, mul(keep, 1 / (1 - p)));
  },
});

/** Dropout; the identity when `training` is false or p is 0. */
export function dropout(x: Tensor, p: number, opts: { training?: boolean; generator?: Generator | undefined } = {}): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1) (got ${p})`);
  if (opts.training === false || p === 0) return x;
  return apply(dropoutOp, [x], { p, generator: opts.generator });
}
