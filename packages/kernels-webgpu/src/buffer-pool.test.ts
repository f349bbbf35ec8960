import { describe, expect, test } from 'vitest';
import { bucketSize } from './buffer-pool.js';

describe('bucketSize', () => {
  test('rounds up to quarters of a power of two, at least 16 bytes, multiples of 16', () => {
    expect(bucketSize(0)).toBe(16);
    expect(bucketSize(17)).toBe(32);
    expect(bucketSize(1024)).toBe(1024);
    expect(bucketSize(1025)).toBe(1280);
    expect(bucketSize(1500)).toBe(1536);
    for (let n = 1; n < 100_000; n += 997) {
      const b = bucketSize(n);
      expect(b).toBeGreaterThanOrEqual(n);
      expect(b % 16).toBe(0);
      expect(b).toBeLessThanOrEqual(Math.max(16, n * 1.25 + 16));
    }
  });
});
