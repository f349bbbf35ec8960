// Shrunk fast-check counterexamples, kept as named regression tests.
import { beforeAll, describe, expect, it } from 'vitest';
import { mul, registerBackend, scaledDotProductAttention, sum, tensor, tidy } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { gradients, grad } from '../src/index.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('regressions', () => {
  it('grad of sum of a 0-d tensor returns the seed itself without disposing it ({"shape":[],"values":[0]})', () => {
    const [g] = grad((x) => sum(x))(tensor(0, { dtype: 'f64' }));
    expect(g!.isDisposed).toBe(false);
    expect(g!.dataSync()[0]).toBe(1);
  });

  it('createGraph keeps intermediate gradients alive for a second backward (x³ at 0.5 gave 3 instead of 3x·2)', () => {
    const x = tensor([0.5], { dtype: 'f64', requiresGrad: true });
    const second = tidy(() => {
      const [dx] = gradients(sum(mul(mul(x, x), x)), [x], { createGraph: true });
      return gradients(sum(dx!), [x])[0]!;
    });
    expect(second.dataSync()[0]).toBeCloseTo(3, 12);
  });

  it('attention with every key of a row masked gives NaN, as PyTorch does (causal, key 0 masked, t = s = 2)', () => {
    const z = tensor([0, 0, 0, 0], { shape: [1, 1, 2, 2], dtype: 'f64' });
    const mask = tensor([false, true], { shape: [1, 1, 1, 2], dtype: 'bool' });
    const out = scaledDotProductAttention(z, z, z, mask, { causal: true }).dataSync();
    expect(Number.isNaN(out[0])).toBe(true); // query 0 sees only key 0, which is masked
    expect(Number.isNaN(out[2])).toBe(false);
  });
});
