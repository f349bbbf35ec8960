import type { Tensor } from '../tensor.js';

/**
 * Disposes tensors an op function made only to feed the op (scalars turned into tensors, casts),
 * unless the result's gradient node still needs them for backward.
 */
export function releaseTemporaries(out: Tensor, temporaries: readonly Tensor[], originals: readonly Tensor[]): Tensor {
  for (const t of temporaries) {
    if (t === out || originals.includes(t)) continue;
    if (out.gradNode?.inputs.includes(t)) continue;
    t.dispose();
  }
  return out;
}
