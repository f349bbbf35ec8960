// Test support: a bit-for-bit comparison of two arrays of numbers, for kernels that must give exactly
// what another path gives (Object.is: NaN equals NaN, -0 differs from +0).
import { expect } from 'vitest';

/**
 * Throws naming `what`, the first differing element and both values unless every element of `expected`
 * is Object.is-equal to `actual`'s at the same index; `reference` names what gave `expected`. With
 * `sameLength` false, `actual` may be longer (only `expected.length` elements are compared).
 */
export function expectIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, reference = 'the reference', sameLength = true): void {
  if (sameLength) expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`${what}: element ${i} is ${actual[i]} but ${reference} gives ${expected[i]}`);
  }
}
