import { apply, defaultGenerator, defineOp, detach, isGradEnabled, tidy, withGradMode, type Tensor } from '@tessera/tensor';
import { runBackward } from './engine.js';

interface CheckpointAttrs {
  fn: (...inputs: Tensor[]) => Tensor;
  rng: { seed: number; counter: number };
}

/**
 * Activation checkpointing: the forward keeps only the inputs; backward recomputes `fn` with the
 * same random stream (so dropout masks match) and back-propagates through the recomputation.
 */
export const checkpointOp = defineOp<CheckpointAttrs>({
  name: 'checkpoint',
  kind: 'composite',
  differentiable: true,
  decompose: (inputs, { fn }) => fn(...inputs),
  vjp: (dy, { inputs, attrs: { fn, rng } }) => {
    const saved = defaultGenerator.getState();
    defaultGenerator.setState(rng);
    try {
      return withGradMode(true, () =>
        tidy(() => {
          const xs = inputs.map((x) => (x.requiresGrad ? detach(x).requiresGrad_() : x));
          const out = fn(...xs);
          if (!out.requiresGrad) return inputs.map(() => null);
          // Parameters that fn closes over get their .grad accumulated as in a plain backward.
          const grads = runBackward(out, dy, { targets: xs.filter((x, i) => x !== inputs[i]) });
          let k = 0;
          return xs.map((x, i) => (x !== inputs[i] ? grads[k++] ?? null : null));
        }),
      );
    } finally {
      defaultGenerator.setState(saved);
    }
  },
});

/**
 * Runs `fn(...inputs)` without keeping its intermediate activations; they are recomputed during
 * backward. Same gradients as calling `fn` directly, lower peak memory.
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  if (!isGradEnabled()) return fn(...inputs);
  return apply(checkpointOp, inputs, { fn, rng: defaultGenerator.getState() });
}
