import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { DTYPES, Tensor, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, getBackend, type DType } from '@tessera/tensor';
import { LAYOUTS, logical, makeView, numRuns, seedArb, shapeArb } from './views.js';

const VALUES = [0, 1, -1, 2.5, -2.5, 7.9, -7.9, 200.5, 255, 300, -300, 65504, 1e6, -0, 0.1, 3e-5];

/** The stored element a value becomes in `dtype` (the contract, written out). */
function encode(v: number, dtype: DType): number {
  switch (dtype) {
    case 'f16':
      return f32ToF16(v);
    case 'bf16':
      return f32ToBf16(v);
    case 'f32':
      return Math.fround(v);
    case 'f64':
      return v;
    case 'bool':
      return v !== 0 ? 1 : 0;
    case 'i32':
      return Math.trunc(v) | 0;
    case 'u32':
      return Math.trunc(v) >>> 0;
    case 'u8':
      return Math.trunc(v) & 255;
  }
}

function decode(raw: number, dtype: DType): number {
  return dtype === 'f16' ? f16ToF32(raw) : dtype === 'bf16' ? bf16ToF32(raw) : raw;
}

/** A tensor holding raw 16-bit patterns as f16/bf16 elements. */
function fromBits(bits: Uint16Array, dtype: 'f16' | 'bf16'): Tensor {
  return new Tensor(getBackend().upload(dtype, bits), [bits.length], [1], 0, dtype);
}

describe('cast', () => {
  test('every pair of dtypes: floats truncate toward zero into integers, anything to bool is != 0', () => {
    for (const from of DTYPES) {
      const x = T.tensor(VALUES, { dtype: from });
      const inputs = logical(x).map((raw) => decode(raw, from));
      for (const to of DTYPES) {
        const y = T.cast(x, to);
        expect(y.dtype).toBe(to);
        const expected = inputs.map((v) => encode(v, to));
        expect(logical(y), `${from} -> ${to}`).toEqual(expected);
      }
    }
  });

  test('f16 round trip through f32 and f64 keeps every one of the 65536 bit patterns', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    for (const wide of ['f32', 'f64'] as const) {
      const back = logical(T.cast(T.cast(fromBits(bits, 'f16'), wide), 'f16'));
      for (let i = 0; i < 65536; i++) {
        const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
        if (isNaN) expect(Number.isNaN(f16ToF32(back[i]!))).toBe(true);
        else if (back[i] !== i) throw new Error(`f16 0x${i.toString(16)} came back as 0x${back[i]!.toString(16)} via ${wide}`);
      }
    }
  });

  test('bf16 round trip through f32 keeps every one of the 65536 bit patterns', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const back = logical(T.cast(T.cast(fromBits(bits, 'bf16'), 'f32'), 'bf16'));
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0;
      if (isNaN) expect(Number.isNaN(bf16ToF32(back[i]!))).toBe(true);
      else if (back[i] !== i) throw new Error(`bf16 0x${i.toString(16)} came back as 0x${back[i]!.toString(16)}`);
    }
  });

  test('f32 -> f16/bf16 rounds to nearest even, and half <-> bf16 converts directly', () => {
    const x = T.tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 1e-8, 1 + 2 ** -8, -3.14159], { dtype: 'f32' });
    const vals = logical(x);
    expect(logical(T.cast(x, 'f16'))).toEqual(vals.map(f32ToF16));
    expect(logical(T.cast(x, 'bf16'))).toEqual(vals.map(f32ToBf16));
    expect(logical(T.cast(T.cast(x, 'f16'), 'bf16'))).toEqual(vals.map((v) => f32ToBf16(f16ToF32(f32ToF16(v)))));
  });

  test('strided inputs of any layout cast elementwise', () => {
    fc.assert(
      fc.property(shapeArb(), fc.constantFrom(...LAYOUTS), seedArb, fc.constantFrom<DType>('f32', 'f64', 'i32'), fc.constantFrom(...DTYPES), (shape, layout, seed, from, to) => {
        const x = makeView(shape, layout, from, seed);
        expect(logical(T.cast(x, to))).toEqual(logical(x).map((v) => encode(v, to)));
      }),
      { numRuns: numRuns() },
    );
  });
});
