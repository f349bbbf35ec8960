import { beforeAll, describe, expect, it } from 'vitest';
import { arange, tensor } from '../src/index.js';
import { useCpu } from './cpu-backend.js';

beforeAll(useCpu);

describe('toString prints like PyTorch', () => {
  it('prints values, dtype and grad flag', () => {
    expect(String(tensor([1, 2.5, -3]))).toBe('tensor([ 1.0000,  2.5000, -3.0000], dtype=f32)');
    expect(String(tensor([1, 2], { requiresGrad: true }))).toBe('tensor([1., 2.], dtype=f32, requiresGrad=true)');
  });

  it('prints matrices on aligned rows', () => {
    expect(String(tensor([[1, 2], [3, 4]], { dtype: 'i32' }))).toBe('tensor([[1, 2],\n        [3, 4]], shape=[2, 2], dtype=i32)');
  });

  it('elides the middle of large tensors', () => {
    const s = String(arange(0, 2000, 1, { dtype: 'i32' }));
    expect(s).toBe('tensor([   0,    1,    2, ..., 1997, 1998, 1999], dtype=i32)');
  });
});
