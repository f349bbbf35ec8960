import { beforeAll, describe, expect, it } from 'vitest';
import { OPS, add, apply, matmul, ones, setBackend, sum, tensor } from '../src/index.js';
import { registerBackend, unregisterBackend } from '../src/index.js';
import { createCpuBackend, useCpu } from './cpu-backend.js';

beforeAll(useCpu);

describe('clear errors', () => {
  it('matmul names both shapes and the fix', () => {
    expect(() => matmul(ones([2, 3]), ones([4, 5]))).toThrow(
      'matmul: inner dimensions differ (a: [2,3], b: [4,5]); expected a.shape[-1] === b.shape[-2] (3 vs 4)',
    );
  });

  it('broadcast failures name the op and shapes', () => {
    expect(() => add(ones([2, 3]), ones([4, 3]))).toThrow(/add: shapes \[2,3\] and \[4,3\] do not broadcast/);
  });

  it('reductions name a bad axis', () => {
    expect(() => sum(ones([2, 3]), 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
  });

  it('a backend without a kernel names the op, the backend and the shapes', () => {
    const partial = createCpuBackend({ name: 'partial' });
    (partial.kernels as Map<unknown, unknown>).delete(OPS.exp);
    registerBackend(partial);
    try {
      const x = ones([2, 2], { device: 'partial' });
      expect(() => apply(OPS.exp, [x], undefined)).toThrow('exp: the partial backend has no kernel for this op (input shapes [2,2]); use a backend that implements it or register a kernel');
    } finally {
      unregisterBackend('partial');
      setBackend('cpu');
    }
  });

  it('unknown backends and ragged data are reported', () => {
    expect(() => setBackend('nope')).toThrow(/no backend named "nope" is registered/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/shape \[2,2\] holds 4 elements but the data has 3/);
  });
});
