import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { expectClose, flatIndex, indices, layoutArb, logical, makeView, numRuns, rng, seedArb, shapeArb, type Layout } from './views.js';

const INDEX_DTYPES: DType[] = ['i32', 'u32', 'u8'];

/** An index tensor of `shape` with values in [0, size), in a given layout (incl. stride-0 broadcast). */
function makeIndex(shape: number[], size: number, layout: Layout, dtype: DType, seed: number): Tensor {
  const base = makeView(shape, layout, 'f64', seed, 'unit'); // values in (-0.9, 0.9): reuse the layout machinery
  const next = rng(seed ^ 0x5bd1e995);
  const data = base.storage.data as Float64Array;
  const bits = Array.from(data, () => Math.floor(next() * size));
  const raw = T.tensor(bits, { shape: [bits.length], dtype });
  // Same layout as `base`, but over integer storage.
  return new T.Tensor(raw.storage, base.shape, base.strides, base.offset, dtype);
}

/** x's shape, an axis, and an index shape no larger than x outside the axis. */
const gatherArb = shapeArb(3, 4).filter((s) => s.length > 0).chain((xShape) =>
  fc.integer({ min: 0, max: xShape.length - 1 }).chain((axis) =>
    fc.tuple(
      fc.constant(xShape),
      fc.constant(axis),
      fc.tuple(...xShape.map((d, i) => fc.integer({ min: 0, max: i === axis ? 5 : d }))),
    ),
  ),
);

describe('gather / scatterAdd', () => {
  test('gather follows torch.gather on strided x and strided or broadcast indices', () => {
    fc.assert(
      fc.property(gatherArb, layoutArb, layoutArb, seedArb, fc.constantFrom(...INDEX_DTYPES), fc.constantFrom<DType>('f32', 'f64', 'i32', 'bf16', 'f16'), ([xShape, axis, iShape], lx, li, seed, idt, dt) => {
        fc.pre(xShape[axis]! > 0 || iShape.includes(0));
        const x = makeView(xShape, lx, dt, seed);
        const index = makeIndex(iShape, xShape[axis]!, li, idt, seed + 1);
        // f16/bf16 x is read as it is (halfInputs) and the picked words widened; the words come back unchanged.
        const y = T.gather(x, axis, index);
        const xv = logical(x);
        const iv = logical(index);
        const expected = [...indices(iShape)].map((idx, f) => xv[flatIndex(idx.map((v, d) => (d === axis ? iv[f]! : v)), xShape)]!);
        expect(y.shape).toEqual(iShape);
        expect(logical(y)).toEqual(expected);
      }),
      { numRuns: numRuns() },
    );
  });

  test('scatterAdd follows torch.scatter_add, accumulating repeated indices', () => {
    fc.assert(
      fc.property(gatherArb, layoutArb, layoutArb, layoutArb, seedArb, fc.constantFrom(...INDEX_DTYPES), fc.constantFrom<DType>('f32', 'f64', 'i32'), ([xShape, axis, iShape], lx, li, ls, seed, idt, dt) => {
        fc.pre(xShape[axis]! > 0 || iShape.includes(0));
        const x = makeView(xShape, lx, dt, seed);
        const index = makeIndex(iShape, xShape[axis]!, li, idt, seed + 1);
        const src = makeView(iShape, ls, dt, seed + 2);
        const before = logical(x);
        const y = T.scatterAdd(x, axis, index, src);
        expect(logical(x)).toEqual(before); // the input is copied, never written
        const expected = logical(x);
        const iv = logical(index);
        const sv = logical(src);
        [...indices(iShape)].forEach((idx, f) => {
          expected[flatIndex(idx.map((v, d) => (d === axis ? iv[f]! : v)), xShape)]! += sv[f]!;
        });
        expectClose(logical(y), dt === 'f32' ? expected.map(Math.fround) : expected, dt === 'f32' ? 1e-6 : 1e-14, 1e-6, 'scatterAdd');
      }),
      { numRuns: numRuns() },
    );
  });

  test('indexSelect (a gather with a stride-0 index) picks rows', () => {
    const table = T.tensor([[1, 2], [3, 4], [5, 6]]);
    expect(logical(T.indexSelect(table, 0, T.tensor([2, 0, 2], { dtype: 'i32' })))).toEqual([5, 6, 1, 2, 5, 6]);
  });

  test('out-of-range and negative indices throw a RangeError naming op, value, position and range', () => {
    const x = T.tensor([[1, 2, 3], [4, 5, 6]]);
    const bad = T.tensor([[0, 1], [3, 0]], { dtype: 'i32' });
    expect(() => T.gather(x, 1, bad)).toThrow(RangeError);
    expect(() => T.gather(x, 1, bad)).toThrow('gather: index 3 at position [1,0] of the index [2,2] is out of range for axis 1 of size 3; expected 0 <= index < 3');
    const negative = T.tensor([[0, -1]], { dtype: 'i32' });
    expect(() => T.gather(x, 1, negative)).toThrow(/gather: index -1 at position \[0,1\].*negative indices are not allowed/);
    const huge = T.tensor([[4000000000]], { dtype: 'u32' });
    expect(() => T.gather(x, 0, huge)).toThrow(/gather: index 4000000000 .* axis 0 of size 2/);
    const src = T.tensor([[1, 1], [1, 1]]);
    expect(() => T.scatterAdd(x, 1, bad, src)).toThrow(/scatterAdd: index 3 at position \[1,0\] .*expected 0 <= index < 3/);
  });
});

describe('concat / pad / copy', () => {
  test('concat joins any number of strided inputs along any axis (incl. empty ones)', () => {
    const arb = shapeArb(3, 4).filter((s) => s.length > 0).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), layoutArb), { minLength: 2, maxLength: 5 })),
    );
    fc.assert(
      fc.property(arb, seedArb, fc.constantFrom<DType>('f32', 'i32', 'bool'), ([shape, axis, parts], seed, dt) => {
        const inputs = parts.map(([size, layout], i) => makeView(shape.map((d, j) => (j === axis ? size : d)), layout, dt, seed + i));
        const y = T.concat(inputs, axis);
        const values = inputs.map(logical);
        const expected: number[] = [];
        for (const idx of indices(y.shape)) {
          let k = idx[axis]!;
          let part = 0;
          while (k >= inputs[part]!.shape[axis]!) k -= inputs[part++]!.shape[axis]!;
          expected.push(values[part]![flatIndex(idx.map((v, d) => (d === axis ? k : v)), inputs[part]!.shape)]!);
        }
        expect(logical(y)).toEqual(expected);
      }),
      { numRuns: numRuns() },
    );
  });

  test('pad adds before/after/interior elements of a value around strided inputs', () => {
    const arb = shapeArb(3, 4).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.tuple(...shape.map(() => fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2))))),
    );
    fc.assert(
      fc.property(arb, layoutArb, seedArb, fc.constantFrom<DType>('f32', 'f64', 'i32'), ([shape, pads], layout, seed, dt) => {
        const x = makeView(shape, layout, dt, seed);
        const y = T.apply(T.OPS.pad, [x], { pads, value: 7 });
        const outShape = shape.map((d, i) => pads[i]![0] + pads[i]![1] + d + Math.max(0, d - 1) * pads[i]![2]);
        expect(y.shape).toEqual(outShape);
        const expected = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(7);
        const xv = logical(x);
        [...indices(shape)].forEach((idx, f) => {
          expected[flatIndex(idx.map((v, d) => pads[d]![0] + v * (pads[d]![2] + 1)), outShape)] = xv[f]!;
        });
        expect(logical(y)).toEqual(expected);
      }),
      { numRuns: numRuns() },
    );
  });

  test('copy (clone) makes any strided view dense', () => {
    fc.assert(
      fc.property(shapeArb(), layoutArb, seedArb, fc.constantFrom<DType>('f32', 'f64', 'i32', 'u8', 'bool', 'f16'), (shape, layout, seed, dt) => {
        const x = makeView(shape, layout, dt, seed);
        const y = T.clone(x);
        expect(y.isContiguous).toBe(true);
        expect(logical(y)).toEqual(logical(x));
      }),
      { numRuns: numRuns() },
    );
  });
});
