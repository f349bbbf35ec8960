/** Formats like Python's `format(x, '.{digits}f')`: exact ties round half to even (JS `toFixed` rounds them up). */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  // A tie is only possible when x is a dyadic rational with denominator ≤ 2^(digits+1); multiplying
  // by a power of two is exact, so this test is exact.
  const n = x * 2 ** (digits + 1);
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 40) {
    const scaled = n * 5 ** (digits + 1); // x * 10^(digits+1), exact for these magnitudes
    if (Math.abs(scaled) % 10 === 5) {
      const down = (Math.abs(scaled) - 5) / 10;
      const even = down % 2 === 0 ? down : down + 1;
      return ((Math.sign(x) * even) / 10 ** digits).toFixed(digits);
    }
  }
  return x.toFixed(digits);
}
