import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, promoteTypes } from '../src/index.js';

describe('half-precision conversions', () => {
  it('encodes known f16 values', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(70000)).toBe(0x7c00); // overflow to inf
    expect(f32ToF16(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f16ToF32(0x3555)).toBeCloseTo(0.33325195, 7);
    expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
  });

  it('encodes known bf16 values with round-to-nearest-even', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(f32ToBf16(1 + 2 ** -8))).toBe(1); // tie rounds to even
    expect(bf16ToF32(f32ToBf16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
  });

  it('round-trips every f16 bit pattern', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = f16ToF32(bits);
      if (Number.isNaN(v)) continue;
      expect(f32ToF16(v)).toBe(bits);
    }
  });

  it('f16 rounding error is within half an ulp', () => {
    fc.assert(
      fc.property(fc.double({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const y = f16ToF32(f32ToF16(x));
        const ulp = 2 ** (Math.max(-14, Math.floor(Math.log2(Math.abs(x) || 2 ** -24))) - 10);
        return Math.abs(y - x) <= ulp / 2 + 1e-12 * Math.abs(x);
      }),
    );
  });
});

describe('promoteTypes', () => {
  it('follows PyTorch for the common pairs', () => {
    expect(promoteTypes('f32', 'f64')).toBe('f64');
    expect(promoteTypes('i32', 'f32')).toBe('f32');
    expect(promoteTypes('bool', 'i32')).toBe('i32');
    expect(promoteTypes('f16', 'bf16')).toBe('f32');
    expect(promoteTypes('u8', 'i32')).toBe('i32');
  });
});
