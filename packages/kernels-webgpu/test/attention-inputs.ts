// Test support for the attention properties: operands built the same way on every device.
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { makeView } from './cross-backend.js';

/** A (B, n, L, D) operand, dense or as the (B, L, n, D) -> (B, n, L, D) transpose a model's heads are. */
export function attentionOperand(dev: string, shape: number[], transposed: boolean, seed: number): Tensor {
  const [b, n, l, d] = shape as [number, number, number, number];
  return transposed ? makeView(dev, [b, l, n, d], 'dense', 'f32', seed, 'unit').transpose(1, 2) : makeView(dev, shape, 'dense', 'f32', seed, 'unit');
}

/** The trainer's (B, 1, T, S) bool mask, random but with key 0 always visible (so no row is all masked). */
export function attentionBoolMask(dev: string, b: number, t: number, s: number, seed: number): Tensor {
  return T.tidy(() => {
    const keep = makeView(dev, [b, 1, t, s], 'dense', 'bool', seed);
    const first = T.tensor(Array.from({ length: s }, (_, j) => j === 0), { dtype: 'bool', device: dev });
    return T.ne(T.add(T.cast(keep, 'i32'), T.cast(first, 'i32')), 0);
  });
}
