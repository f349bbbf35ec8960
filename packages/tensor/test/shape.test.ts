import { describe, expect, it } from 'vitest';
import { broadcastShapes, contiguousStrides, isContiguous, normalizeAxes } from '../src/index.js';

describe('shapes', () => {
  it('broadcasts by NumPy rules', () => {
    expect(broadcastShapes([2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(broadcastShapes([], [3])).toEqual([3]);
    expect(broadcastShapes([0, 1], [1, 5])).toEqual([0, 5]);
  });

  it('names both shapes when they do not broadcast', () => {
    expect(() => broadcastShapes([2, 3], [4, 3], 'add')).toThrow(/add: shapes \[2,3\] and \[4,3\] do not broadcast/);
  });

  it('computes row-major strides and recognises contiguity', () => {
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(isContiguous([2, 3], [3, 1])).toBe(true);
    expect(isContiguous([3, 2], [1, 3])).toBe(false);
    expect(isContiguous([1, 3], [99, 1])).toBe(true);
  });

  it('normalises axes and rejects repeats and out-of-range axes', () => {
    expect(normalizeAxes([-1, 0], 3, 'sum')).toEqual([0, 2]);
    expect(() => normalizeAxes([0, -3], 3, 'sum')).toThrow(/repeated axis/);
    expect(() => normalizeAxes([3], 3, 'sum')).toThrow(/axis 3 is out of range for a tensor of rank 3/);
  });
});
