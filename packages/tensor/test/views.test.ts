import { beforeAll, describe, expect, it } from 'vitest';
import { arange, contiguous, expand, permute, reshape, slice, squeeze, tensor, transpose, unsqueeze, view, narrow, split, flatten } from '../src/index.js';
import { useCpu } from './cpu-backend.js';

beforeAll(useCpu);

describe('views share storage; contiguous copies only when needed', () => {
  it('reshape and view of a contiguous tensor share its storage', () => {
    const x = arange(0, 12, 1, { dtype: 'f32' });
    const y = reshape(x, [3, 4]);
    expect(y.storage).toBe(x.storage);
    expect(view(x, [2, -1]).shape).toEqual([2, 6]);
  });

  it('transpose and permute change strides, not memory', async () => {
    const x = reshape(arange(0, 6, 1, { dtype: 'f32' }), [2, 3]);
    const t = transpose(x);
    expect(t.storage).toBe(x.storage);
    expect(t.shape).toEqual([3, 2]);
    expect(t.strides).toEqual([1, 3]);
    expect(t.isContiguous).toBe(false);
    expect(await t.array()).toEqual([[0, 3], [1, 4], [2, 5]]);
    const p = permute(reshape(arange(0, 24, 1, { dtype: 'f32' }), [2, 3, 4]), [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.strides).toEqual([1, 12, 4]);
  });

  it('slice and narrow offset into the same storage, with steps', async () => {
    const x = arange(0, 10, 1, { dtype: 'f32' });
    const s = slice(x, 0, 1, 9, 3);
    expect(s.storage).toBe(x.storage);
    expect(s.offset).toBe(1);
    expect(await s.array()).toEqual([1, 4, 7]);
    expect(await slice(x, 0, -3).array()).toEqual([7, 8, 9]);
    expect(await narrow(x, 0, 2, 3).array()).toEqual([2, 3, 4]);
    expect(() => narrow(x, 0, 8, 3)).toThrow(/narrow: start 8 and length 3 exceed dim 0 of size 10/);
    expect((await Promise.all(split(x, 4).map((p) => p.array())))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('expand broadcasts with stride 0', async () => {
    const x = tensor([[1], [2]]);
    const e = expand(x, [3, 2, 4]);
    expect(e.strides).toEqual([0, 1, 0]);
    expect(e.storage).toBe(x.storage);
    expect(await e.array()).toEqual([
      [[1, 1, 1, 1], [2, 2, 2, 2]],
      [[1, 1, 1, 1], [2, 2, 2, 2]],
      [[1, 1, 1, 1], [2, 2, 2, 2]],
    ]);
    expect(() => expand(x, [3, 3])).toThrow(/cannot expand \[2,1\] to \[3,3\]/);
  });

  it('squeeze and unsqueeze are views', () => {
    const x = arange(0, 6, 1, { dtype: 'f32' }).reshape([1, 6, 1]);
    expect(squeeze(x).shape).toEqual([6]);
    expect(squeeze(x, 0).shape).toEqual([6, 1]);
    expect(unsqueeze(x, -1).shape).toEqual([1, 6, 1, 1]);
    expect(squeeze(x).storage).toBe(x.storage);
    expect(flatten(x).shape).toEqual([6]);
  });

  it('contiguous returns the tensor itself when already dense, a copy otherwise', async () => {
    const x = reshape(arange(0, 6, 1, { dtype: 'f32' }), [2, 3]);
    expect(contiguous(x)).toBe(x);
    const c = contiguous(transpose(x));
    expect(c.storage).not.toBe(x.storage);
    expect(c.isContiguous).toBe(true);
    expect(await c.array()).toEqual([[0, 3], [1, 4], [2, 5]]);
    // reshape of a non-contiguous view must copy; view refuses
    expect(() => view(transpose(x), [6])).toThrow(/not contiguous/);
    expect(await reshape(transpose(x), [6]).array()).toEqual([0, 3, 1, 4, 2, 5]);
  });
});
