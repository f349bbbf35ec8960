// The window arithmetic against brute force: spans of boxes and flat ranges of strided views (zero
// and negative strides included), box plans that tile the shape with windows that fit, range plans
// that cover [0, n), and windows that are aligned, within the limit and hold what they must.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { boxesOf, boxSpan, fitsSpan, planBoxLengths, planRanges, rangeSpan, windowOf, type WindowLimits } from './binding-window.js';

const runs = { numRuns: Number.parseInt(process.env.FC_NUM_RUNS ?? '', 10) || 100 };

/** A view over an iteration shape: shape, strides (any sign, zero for broadcast) and an offset keeping every element >= 0. */
const viewArb = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: -40, max: 40 })), { minLength: 0, maxLength: 4 })
  .map((dims) => {
    const shape = dims.map(([d]) => d);
    const strides = dims.map(([, s]) => s);
    const offset = strides.reduce((acc, s, i) => acc + Math.max(0, -s * (shape[i]! - 1)), 0);
    return { shape, strides, offset };
  });

/** Element offsets of flat indices [e0, e1) of a view, by walking coordinates. */
function offsets(shape: readonly number[], strides: readonly number[], offset: number, e0: number, e1: number): number[] {
  const out: number[] = [];
  for (let e = e0; e < e1; e++) {
    let rem = e;
    let off = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      off += (rem % shape[d]!) * strides[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    out.push(off);
  }
  return out;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

describe('binding windows: spans', () => {
  test('rangeSpan is the min and max offset over the flat range', () =>
    fc.assert(
      fc.property(viewArb, fc.nat(), fc.nat(), ({ shape, strides, offset }, a, b) => {
        const n = numel(shape);
        const e0 = a % n;
        const e1 = e0 + 1 + (b % (n - e0));
        const all = offsets(shape, strides, offset, e0, e1);
        expect(rangeSpan(shape, strides, offset, e0, e1)).toEqual([Math.min(...all), Math.max(...all)]);
      }),
      runs,
    ));

  test('boxSpan is the min and max offset over the box', () =>
    fc.assert(
      fc.property(viewArb, fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), ({ shape, strides, offset }, picks) => {
        const lo = shape.map((d, i) => picks[i]! % d);
        const len = shape.map((d, i) => 1 + (picks[i + 4]! % (d - lo[i]!)));
        const all: number[] = [];
        for (const { lo: l } of boxesOf(len, len.map(() => 1))) all.push(offset + l.reduce((acc, c, d) => acc + (c + lo[d]!) * strides[d]!, 0));
        expect(boxSpan(offset, strides, lo, len)).toEqual([Math.min(...all), Math.max(...all)]);
      }),
      runs,
    ));
});

describe('binding windows: plans', () => {
  const limitsArb = fc.record({ maxBindingBytes: fc.integer({ min: 64, max: 1024 }).map((w) => w * 4 + 512), offsetAlignment: fc.constantFrom(16, 64, 256) }) as fc.Arbitrary<WindowLimits>;

  test('box plans tile the shape once and every operand window over every box fits', () =>
    fc.assert(
      fc.property(limitsArb, fc.array(viewArb, { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 4, maxLength: 4 }), (limits, views, scale) => {
        // Operands over one iteration shape: the first view's, strides scaled up to overflow a window.
        const shape = views[0]!.shape;
        const operands = views.map((v, k) => ({ strides: shape.map((_, d) => (v.strides[d] ?? 1) * scale[k]!), dtype: 'f32' as const, whole: false }));
        const len = planBoxLengths(limits, shape, operands);
        const seen = new Array<number>(numel(shape)).fill(0);
        for (const box of boxesOf(shape, len)) {
          for (const op of operands) {
            const [min, max] = boxSpan(0, op.strides, box.lo, box.len);
            expect(numel(box.len) === 1 || fitsSpan(limits, 'f32', max - min + 1)).toBe(true);
          }
          for (const { lo } of boxesOf(box.len, box.len.map(() => 1))) seen[lo.reduce((acc, c, d) => acc * shape[d]! + c + box.lo[d]!, 0)]! += 1;
        }
        expect(seen.every((c) => c === 1)).toBe(true);
      }),
      runs,
    ));

  test('range plans cover [0, n) in order, in whole granules, each piece accepted', () =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.constantFrom(1, 2, 4), fc.integer({ min: 1, max: 900 }), (n, granule, cap) => {
        const fits = (e0: number, e1: number) => e1 - e0 <= Math.max(cap, granule);
        const ranges = planRanges(n, granule, 4096, fits)!;
        expect(ranges[0]![0]).toBe(0);
        expect(ranges.at(-1)![1]).toBe(n);
        ranges.forEach(([e0, e1], i) => {
          expect(fits(e0, e1)).toBe(true);
          expect(e0 % granule).toBe(0);
          if (i > 0) expect(e0).toBe(ranges[i - 1]![1]);
        });
      }),
      runs,
    ));

  test('windows are aligned, whole 16-byte vectors, within the limit and hold the elements asked for', () =>
    fc.assert(
      fc.property(limitsArb, fc.constantFrom('f32', 'f16', 'u8', 'f64'), fc.nat(), fc.nat(), (limits, dtype, a, b) => {
        const buffer = { size: 1 << 20 } as GPUBuffer;
        const bytesPer = { f32: 4, f16: 2, u8: 1, f64: 8 }[dtype];
        const min = a % ((1 << 20) / bytesPer - 1);
        const max = Math.min((1 << 20) / bytesPer - 1, min + (b % 2000));
        const w = windowOf(limits, buffer, dtype, min, max);
        const need = [Math.floor((min * bytesPer) / 4) * 4, Math.ceil(((max + 1) * bytesPer) / 4) * 4];
        if (w === null) {
          // Refused only when the span could not be promised to fit anyway.
          expect(fitsSpan(limits, dtype, max - min + 1)).toBe(false);
          return;
        }
        expect('offset' in w).toBe(true);
        const { offset, size } = w as { offset: number; size: number };
        expect(offset % limits.offsetAlignment).toBe(0);
        expect(size % 16).toBe(0);
        expect(size).toBeLessThanOrEqual(limits.maxBindingBytes);
        expect(offset).toBeLessThanOrEqual(need[0]!);
        expect(offset + size).toBeGreaterThanOrEqual(need[1]!);
      }),
      runs,
    ));
});
