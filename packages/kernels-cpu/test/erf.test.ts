import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { erf } from '../src/index.js';
import { numRuns } from './views.js';

// erf(x) to 16 digits (Abramowitz & Stegun table 7.1 / high-precision evaluations).
const TABLE: [number, number][] = [
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [1.5, 0.9661051464753108],
  [2, 0.9953222650189527],
  [2.5, 0.9995930479825550],
  [3, 0.9999779095030014],
  [3.5, 0.9999992569016276],
  [4, 0.9999999845827421],
];

/** erf by composite Simpson integration of 2/sqrt(pi) e^(-t^2): slow, independent, ~1e-14 accurate. */
function erfBySimpson(x: number): number {
  const n = 4000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

describe('erf', () => {
  test('matches tabulated values to 1e-14 relative, and is odd', () => {
    for (const [x, y] of TABLE) {
      expect(Math.abs(erf(x) - y) / y).toBeLessThan(1e-14);
      expect(erf(-x)).toBe(-erf(x));
    }
  });

  test('special values', () => {
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
    expect(erf(1e-300)).toBeCloseTo(1.1283791670955126e-300, 310);
    expect(Math.abs(erf(1e-10) / 1.1283791670955126e-10 - 1)).toBeLessThan(1e-15);
  });

  test('agrees with numerical integration to 1e-12 relative on [-6, 6]', () => {
    fc.assert(
      fc.property(fc.double({ min: -6, max: 6, noNaN: true }), (x) => {
        const ref = erfBySimpson(x);
        expect(Math.abs(erf(x) - ref)).toBeLessThanOrEqual(1e-12 * Math.abs(ref) + 1e-300);
      }),
      { numRuns: numRuns() },
    );
  });

  test('is continuous where the algorithm switches (|x| = 3 and 6)', () => {
    for (const x of [3, 6]) {
      const below = erf(x - 1e-9);
      const above = erf(x + 1e-9);
      // The step across the switch must be the slope times the gap, 2/sqrt(pi) e^(-x^2) * 2e-9.
      const slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
      expect(Math.abs(above - below - slope * 2e-9)).toBeLessThan(1e-15);
    }
  });
});
