import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  add,
  exp,
  matmul,
  memory,
  mul,
  ones,
  randn,
  registerBackend,
  resetPeakMemory,
  sum,
  tanh,
  tensor,
  tidy,
  type Tensor,
} from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { backward, checkpoint, grad, gradients, noGrad, valueAndGrad, zeroGrad } from '../src/index.js';
import { numRuns, shapeArb, tensorDataArb, toTensor } from '../src/testing.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

const close = async (a: Tensor, b: number[] | Tensor, tol = 1e-6): Promise<void> => {
  const av = Array.from(await a.data());
  const bv = Array.isArray(b) ? b : Array.from(await b.data());
  expect(av.length).toBe(bv.length);
  av.forEach((x, i) => expect(Math.abs(x - bv[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(bv[i]!))));
};

describe('backward', () => {
  it('fills .grad on leaves and accumulates across calls until zeroGrad', async () => {
    const w = tensor([1, 2, 3], { requiresGrad: true });
    tidy(() => backward(sum(mul(w, w))));
    await close(w.grad!, [2, 4, 6]);
    tidy(() => backward(sum(mul(w, w))));
    await close(w.grad!, [4, 8, 12]);
    zeroGrad([w]);
    expect(w.grad).toBeNull();
  });

  it('sums broadcast gradients back to the input shape', async () => {
    const b = tensor([[1], [2]], { requiresGrad: true, dtype: 'f64' }); // (2, 1)
    const x = ones([3, 2, 4], { dtype: 'f64' });
    tidy(() => backward(sum(mul(add(x, b), 2))));
    expect(b.grad!.shape).toEqual([2, 1]);
    await close(b.grad!, [24, 24]);
  });

  it('requires a scalar or an explicit gradient, and an output that requires grad', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    expect(() => backward(mul(w, 2))).toThrow(/non-scalar needs an explicit gradient/);
    expect(() => backward(sum(tensor([1, 2])))).toThrow(/does not require grad/);
    expect(() => noGrad(() => backward(sum(mul(w, 2))))).toThrow(/does not require grad/);
  });

  it('grad of sum is ones (any shape)', () => {
    fc.assert(
      fc.property(tensorDataArb(shapeArb({ maxRank: 3 })), (d) =>
        tidy(() => {
          const [g] = grad((x) => sum(x))(toTensor(d));
          return Array.from(g!.dataSync()).every((v) => v === 1) && g!.shape.join() === d.shape.join();
        }),
      ),
      { numRuns: numRuns() },
    );
  });

  it('a vector-Jacobian product is linear in the output gradient', () => {
    fc.assert(
      fc.property(tensorDataArb(shapeArb({ minRank: 1, maxRank: 2 })), fc.double({ min: -3, max: 3, noNaN: true }), (d, alpha) =>
        tidy(() => {
          const x = toTensor(d).requiresGrad_();
          const y = tanh(mul(x, x));
          const u1 = randn(y.shape, { dtype: 'f64' });
          const u2 = randn(y.shape, { dtype: 'f64' });
          const [g1] = gradients(y, [x], { gradient: u1 });
          const [g2] = gradients(y, [x], { gradient: u2 });
          const [g12] = gradients(y, [x], { gradient: add(mul(u1, alpha), u2) });
          const expected = add(mul(g1!, alpha), g2!).dataSync();
          const got = g12!.dataSync();
          return Array.from(got).every((v, i) => Math.abs(v - expected[i]!) < 1e-9 * (1 + Math.abs(expected[i]!)));
        }),
      ),
      { numRuns: numRuns() },
    );
  });

  it('valueAndGrad returns the value and one gradient per argument, leaking nothing', async () => {
    const a = tensor([1, 2], { dtype: 'f64' });
    const b = tensor([3, 4], { dtype: 'f64' });
    const before = memory().numUndisposed;
    const [v, [ga, gb]] = valueAndGrad((x, y) => sum(mul(x, y)))(a, b);
    expect(await v.item()).toBe(11);
    await close(ga!, [3, 4]);
    await close(gb!, [1, 2]);
    v.dispose();
    ga!.dispose();
    gb!.dispose();
    expect(memory().numUndisposed).toBe(before);
  });

  it('higher-order gradients: d²/dx² of x³ is 6x', async () => {
    const x = tensor([0.5, -1, 2], { dtype: 'f64', requiresGrad: true });
    const second = tidy(() => {
      const y = sum(mul(mul(x, x), x));
      const [dx] = gradients(y, [x], { createGraph: true });
      return gradients(sum(dx!), [x])[0]!;
    });
    await close(second, [3, -6, 12]);
  });

  it('noGrad records nothing', () => {
    const w = tensor([1], { requiresGrad: true });
    const y = noGrad(() => exp(w));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradNode).toBeNull();
  });
});

describe('checkpoint', () => {
  const layers = 6;
  const width = 64;
  function deep(x: Tensor, ws: Tensor[], useCheckpoint: boolean): Tensor {
    let h = x;
    for (const w of ws) h = useCheckpoint ? checkpoint((a, b) => tanh(matmul(a, b)), h, w) : tanh(matmul(h, w));
    return sum(h);
  }

  it('gives the same gradients with a lower peak memory', async () => {
    const ws = Array.from({ length: layers }, () => mul(randn([width, width]), 0.1).requiresGrad_());
    const x = randn([32, width]);
    const run = (useCheckpoint: boolean): { grads: Float32Array[]; peak: number } => {
      zeroGrad(ws);
      const base = memory().numBytes;
      resetPeakMemory();
      tidy(() => backward(deep(x, ws, useCheckpoint)));
      const peak = memory().peakBytes - base;
      return { grads: ws.map((w) => w.grad!.dataSync() as Float32Array), peak };
    };
    const plain = run(false);
    const ckpt = run(true);
    ckpt.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - plain.grads[i]![j]!)).toBeLessThan(1e-5)));
    expect(ckpt.peak).toBeLessThan(plain.peak);
  });
});
