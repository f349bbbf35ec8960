import { describe, expect, test } from 'vitest';
import { makeView } from './views.js';

describe('test layouts are the layouts they claim', () => {
  test('dense, offset, transposed, sliced and expanded views of [3, 4]', () => {
    const dense = makeView([3, 4], 'dense', 'f32', 1);
    expect([dense.isContiguous, dense.offset]).toEqual([true, 0]);
    const offset = makeView([3, 4], 'offset', 'f32', 1);
    expect(offset.isContiguous).toBe(true);
    expect(offset.offset).toBeGreaterThan(0);
    const transposed = makeView([3, 4], 'transposed', 'f32', 1);
    expect(transposed.isContiguous).toBe(false);
    expect(transposed.strides).toEqual([1, 3]);
    const sliced = makeView([3, 4], 'sliced', 'f32', 1);
    expect(sliced.isContiguous).toBe(false);
    expect(sliced.offset).toBeGreaterThan(0);
    const expanded = makeView([3, 4], 'expanded', 'f32', 1);
    expect(expanded.strides).toContain(0);
    for (const v of [dense, offset, transposed, sliced, expanded]) expect(v.shape).toEqual([3, 4]);
  });
});
