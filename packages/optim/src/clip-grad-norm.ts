import { add, div, keep, minimum, mul, scalarLike, sqrt, sum, tidy, withGradMode, type Tensor } from '@tessera/tensor';

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_)
 * and returns the norm before clipping as a 0-d tensor (no read-back, so GPU work stays queued).
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor {
  const withGrad = [...params].filter((p) => p.grad);
  if (withGrad.length === 0) throw new Error('clipGradNorm: no parameter has a gradient; call backward first');
  return withGradMode(false, () => {
    const norm = tidy(() => sqrt(withGrad.map((p) => sum(mul(p.grad!, p.grad!))).reduce((a, b) => add(a, b))));
    tidy(() => {
      const coef = minimum(div(scalarLike(maxNorm, norm), add(norm, 1e-6)), 1);
      // Replace rather than assign: a gradient can be a view into a larger storage (the engine
      // hands back slices of a shared buffer), which assign refuses.
      for (const p of withGrad) {
        const old = p.grad!;
        p.grad = keep(mul(old, coef).cast(old.dtype));
        old.dispose();
      }
    });
    return norm;
  });
}
