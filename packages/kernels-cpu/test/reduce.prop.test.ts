import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType } from '@tessera/tensor';
import { expectClose, flatIndex, indices, layoutArb, logical, makeView, numRuns, seedArb, shapeArb, type Layout } from './views.js';

/** A shape plus a sorted subset of its axes. */
const shapeAxesArb = shapeArb(4, 5).chain((shape) =>
  fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), fc.boolean()),
);

/** Folds logical values over `axes` with a plain loop: the reference reduction. */
function referenceReduce(values: number[], shape: number[], axes: number[], init: number, step: (a: number, x: number) => number): number[] {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const acc = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(init);
  let f = 0;
  for (const idx of indices(shape)) {
    const o = flatIndex(idx.map((v, i) => (axes.includes(i) ? 0 : v)), outShape);
    acc[o] = step(acc[o]!, values[f++]!);
  }
  return acc;
}

const SPECS = [
  { name: 'sum', run: T.sum, init: 0, step: (a: number, x: number) => a + x, allowEmpty: true },
  { name: 'max', run: T.max, init: -Infinity, step: (a: number, x: number) => (x > a ? x : a), allowEmpty: false },
  { name: 'min', run: T.min, init: Infinity, step: (a: number, x: number) => (x < a ? x : a), allowEmpty: false },
] as const;

describe('reductions on strided views', () => {
  for (const spec of SPECS) {
    test(`${spec.name} over any axes, keepDims or not`, () => {
      fc.assert(
        fc.property(shapeAxesArb, layoutArb, seedArb, fc.constantFrom<DType>('f32', 'f64', 'i32', 'u8', 'bool'), ([shape, axes, keepDims], layout, seed, dtype) => {
          fc.pre(spec.allowEmpty || axes.every((a) => shape[a]! > 0));
          const x = makeView(shape, layout as Layout, dtype, seed);
          const y = spec.run(x, axes, keepDims);
          const expectedShape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
          expect(y.shape).toEqual(expectedShape);
          const expected = referenceReduce(logical(x), shape, axes, spec.init, spec.step);
          const f32 = y.dtype === 'f32';
          expectClose(logical(y), f32 ? expected.map(Math.fround) : expected, f32 ? 1e-6 : 1e-14, f32 ? 1e-5 : 1e-13, `${spec.name} ${dtype} ${layout} [${shape}] axes [${axes}]`);
        }),
        { numRuns: numRuns() },
      );
    });
  }

  test('sum of bool and u8 counts in i32; sum over an empty dim is 0', () => {
    const b = T.tensor([true, true, false, true]);
    const s = T.sum(b);
    expect(s.dtype).toBe('i32');
    expect(logical(s)).toEqual([3]);
    expect(logical(T.sum(T.zeros([3, 0]), 1))).toEqual([0, 0, 0]);
  });

  test('max/min propagate NaN', () => {
    const x = T.tensor([[1, NaN, 3], [4, 5, 6]], { dtype: 'f64' });
    expectClose(logical(T.max(x, 1)), [NaN, 6], 0);
    expectClose(logical(T.min(x, 1)), [NaN, 4], 0);
    expectClose(logical(T.max(x)), [NaN], 0);
  });

  for (const [name, run, better] of [
    ['argmax', T.argmax, (x: number, b: number) => x > b],
    ['argmin', T.argmin, (x: number, b: number) => x < b],
  ] as const) {
    test(`${name}: first index of the extreme along one axis, i32 output`, () => {
      const arb = shapeArb(4, 5).filter((s) => s.length > 0).chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.boolean()));
      fc.assert(
        fc.property(arb, layoutArb, seedArb, fc.constantFrom<DType>('f32', 'f64', 'i32', 'u8'), ([shape, axis, keepDims], layout, seed, dtype) => {
          fc.pre(shape[axis]! > 0);
          // Small integers make ties common, so "first on ties" is exercised.
          const x = makeView(shape, layout as Layout, dtype, seed, 'smallInt');
          const y = run(x, axis, keepDims);
          expect(y.dtype).toBe('i32');
          const values = logical(x);
          const outShape = shape.map((d, i) => (i === axis ? 1 : d));
          const expected = [...indices(outShape)].map((idx) => {
            let best = 0;
            const at = (k: number) => values[flatIndex(idx.map((v, i) => (i === axis ? k : v)), shape)]!;
            for (let k = 1; k < shape[axis]!; k++) if (better(at(k), at(best))) best = k;
            return best;
          });
          expect(logical(y)).toEqual(expected);
        }),
        { numRuns: numRuns() },
      );
    });
  }

  test('argmax/argmin pick the first NaN; flattened when no axis is given', () => {
    const x = T.tensor([[1, NaN, 7, NaN], [2, 2, 0, 0]], { dtype: 'f32' });
    expect(logical(T.argmax(x, 1))).toEqual([1, 0]);
    expect(logical(T.argmin(x, 1))).toEqual([1, 2]);
    expect(logical(T.argmax(T.tensor([[3, 9], [9, 1]])))).toEqual([1]);
  });
});
