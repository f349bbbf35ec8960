// AdamW.step hands every parameter to a backend's multi-tensor update (Backend.adamwUpdateMany) in one
// call per step, so a GPU backend spends a constant number of dispatches on it; items the hook leaves
// (null) are updated one by one, and the result is the per-parameter AdamW's either way.
import { describe, expect, it } from 'vitest';
import { registerBackend, tensor, type AdamWOperands, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { AdamW } from '../src/index.js';

describe('AdamW.step and Backend.adamwUpdateMany', () => {
  it('passes all parameters of all groups in one call per step; declined items still update', async () => {
    const calls: AdamWOperands[][] = [];
    const many = createCpuBackend({ name: 'cpu-many' });
    many.adamwUpdateMany = (items) => {
      calls.push([...items]);
      return items.map(() => null);
    };
    registerBackend(many);
    registerBackend(createCpuBackend({ name: 'cpu-plain' }));
    const make = (device: string): [string, Tensor][] =>
      // Matrices decay; vectors (norm weights, biases) do not.
      ['w1', 'w2', 'norm.weight', 'b.bias'].map((name, i) => [name, tensor([1 + i, -2, 0.5 * i], { shape: i < 2 ? [1, 3] : [3], device, requiresGrad: true })]);
    const run = async (device: string) => {
      const params = make(device);
      const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.1 });
      for (let step = 0; step < 2; step++) {
        for (const [, p] of params) p.grad = tensor([0.3, -0.1 * step, 1], { shape: [...p.shape], device });
        opt.step();
        opt.zeroGrad();
      }
      return Promise.all(params.map(([, p]) => p.data()));
    };
    const got = await run('cpu-many');
    expect(calls.map((c) => c.length)).toEqual([4, 4]);
    // Two groups (decayed weights, undecayed norms and biases) travel in the same call.
    expect(new Set(calls[0]!.map((c) => c.h.weightDecay))).toEqual(new Set([0.1, 0]));
    expect(got).toEqual(await run('cpu-plain'));
  });
});
