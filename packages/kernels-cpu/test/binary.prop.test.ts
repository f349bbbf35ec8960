import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { broadcastRead, broadcastableArb, expectClose, indices, layoutArb, logical, makeView, numRuns, seedArb, shapeArb, type Layout, type ValueKind } from './views.js';

type Ref = (a: number, b: number) => number;
interface BinarySpec {
  name: string;
  run: (a: Tensor, b: Tensor) => Tensor;
  ref: Ref;
  kind: ValueKind;
  dtypes: DType[];
}

const b2n = (v: boolean): number => (v ? 1 : 0);
const SPECS: BinarySpec[] = [
  { name: 'add', run: T.add, ref: (a, b) => a + b, kind: 'real', dtypes: ['f32', 'f64', 'i32', 'u32', 'u8', 'bool'] },
  { name: 'sub', run: T.sub, ref: (a, b) => a - b, kind: 'real', dtypes: ['f32', 'f64', 'i32', 'u32', 'u8'] },
  { name: 'mul', run: T.mul, ref: (a, b) => a * b, kind: 'real', dtypes: ['f32', 'f64', 'i32', 'u32', 'bool'] },
  { name: 'div', run: T.div, ref: (a, b) => a / b, kind: 'real', dtypes: ['f32', 'f64', 'i32'] },
  { name: 'pow', run: T.pow, ref: (a, b) => Math.exp(b * Math.log(a)), kind: 'positive', dtypes: ['f32', 'f64'] },
  { name: 'maximum', run: T.maximum, ref: (a, b) => (a > b ? a : b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'u8'] },
  { name: 'minimum', run: T.minimum, ref: (a, b) => (a < b ? a : b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'u8'] },
  { name: 'eq', run: T.eq, ref: (a, b) => b2n(a === b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'bool'] },
  { name: 'ne', run: T.ne, ref: (a, b) => b2n(a !== b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'bool'] },
  { name: 'lt', run: T.lt, ref: (a, b) => b2n(a < b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'u32'] },
  { name: 'le', run: T.le, ref: (a, b) => b2n(a <= b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'u8'] },
  { name: 'gt', run: T.gt, ref: (a, b) => b2n(a > b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'u8'] },
  { name: 'ge', run: T.ge, ref: (a, b) => b2n(a >= b), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32', 'u32'] },
];

/** Stores a value as an element of dtype would hold it. */
export function wrap(dtype: DType, v: number): number {
  switch (dtype) {
    case 'f32':
      return Math.fround(v);
    case 'i32':
      return v | 0;
    case 'u32':
      return v >>> 0;
    case 'u8':
      return v & 255;
    case 'bool':
      return v !== 0 ? 1 : 0;
    default:
      return v;
  }
}

/** Output shape plus two operand shapes that broadcast to it. */
const pairArb = shapeArb(4, 4).chain((out) => fc.tuple(fc.constant(out), broadcastableArb(out), broadcastableArb(out)));
const operandArb = fc.tuple(layoutArb, seedArb);

function expectedBinary(a: Tensor, b: Tensor, outShape: number[], outDtype: DType, ref: Ref): number[] {
  const av = logical(a);
  const bv = logical(b);
  return [...indices(outShape)].map((idx) => wrap(outDtype, ref(broadcastRead(av, a.shape, idx), broadcastRead(bv, b.shape, idx))));
}

describe('binary kernels with broadcasting on strided views', () => {
  for (const spec of SPECS) {
    test(`${spec.name} (${spec.dtypes.join(', ')})`, () => {
      fc.assert(
        fc.property(pairArb, operandArb, operandArb, fc.constantFrom(...spec.dtypes), ([, sa, sb], [la, seedA], [lb, seedB], dtype) => {
          // The operands may both be 1 where the drawn shape was larger: the result is their broadcast.
          const outShape = T.broadcastShapes(sa, sb);
          const a = makeView(sa, la as Layout, dtype, seedA, spec.kind);
          const b = makeView(sb, lb as Layout, dtype, seedB, spec.kind);
          const y = spec.run(a, b);
          expect(y.shape).toEqual(outShape);
          // div/pow compute on floats: the reference sees the promoted operands the kernel saw.
          const expected = expectedBinary(a, b, outShape, y.dtype, spec.ref);
          const f32 = y.dtype === 'f32';
          const tol = spec.name === 'pow' ? (f32 ? 4e-6 : 1e-13) : f32 ? 1e-6 : 1e-15;
          expectClose(logical(y), expected, tol, 0, `${spec.name} ${dtype} ${la}[${sa}] ${lb}[${sb}]`);
        }),
        { numRuns: numRuns() },
      );
    });
  }

  test('integer arithmetic wraps like the fixed-width types', () => {
    const big = T.tensor([2147483647, 65537], { dtype: 'i32' });
    expect([...T.add(big, T.tensor([1, 1], { dtype: 'i32' })).dataSync()]).toEqual([-2147483648, 65538]);
    expect([...T.mul(big, T.tensor([2, 65537], { dtype: 'i32' })).dataSync()]).toEqual([-2, Math.imul(65537, 65537)]);
    expect([...T.sub(T.tensor([1], { dtype: 'u8' }), T.tensor([2], { dtype: 'u8' })).dataSync()]).toEqual([255]);
    expect([...T.mul(T.tensor([4294967295], { dtype: 'u32' }), T.tensor([4294967295], { dtype: 'u32' })).dataSync()]).toEqual([1]);
  });

  test('NaN: maximum/minimum propagate it; comparisons are false except ne', () => {
    const a = T.tensor([NaN, 1, NaN], { dtype: 'f64' });
    const b = T.tensor([1, NaN, NaN], { dtype: 'f64' });
    expectClose(logical(T.maximum(a, b)), [NaN, NaN, NaN], 0);
    expectClose(logical(T.minimum(a, b)), [NaN, NaN, NaN], 0);
    expect(logical(T.eq(a, b))).toEqual([0, 0, 0]);
    expect(logical(T.ne(a, b))).toEqual([1, 1, 1]);
    expect(logical(T.lt(a, b))).toEqual([0, 0, 0]);
  });

  test('pow follows C at the edges (1^NaN = 1, x^0 = 1, 0^-1 = inf)', () => {
    const y = T.pow(T.tensor([1, NaN, 0, -8], { dtype: 'f64' }), T.tensor([NaN, 0, -1, 1 / 3], { dtype: 'f64' }));
    expectClose(logical(y), [1, 1, Infinity, NaN], 0);
  });

  test('where broadcasts condition and both branches over strided views', () => {
    const tripleArb = shapeArb(4, 4).chain((out) => fc.tuple(fc.constant(out), broadcastableArb(out), broadcastableArb(out), broadcastableArb(out)));
    fc.assert(
      fc.property(tripleArb, operandArb, operandArb, operandArb, fc.constantFrom<DType>('f32', 'f64', 'i32'), ([, sc, sa, sb], [lc, s1], [la, s2], [lb, s3], dtype) => {
        const outShape = T.broadcastShapes(T.broadcastShapes(sc, sa), sb);
        const c = makeView(sc, lc as Layout, 'bool', s1);
        const a = makeView(sa, la as Layout, dtype, s2);
        const b = makeView(sb, lb as Layout, dtype, s3);
        const y = T.where(c, a, b);
        const cv = logical(c);
        const av = logical(a);
        const bv = logical(b);
        const expected = [...indices(outShape)].map((idx) =>
          broadcastRead(cv, c.shape, idx) ? broadcastRead(av, a.shape, idx) : broadcastRead(bv, b.shape, idx),
        );
        expect(y.dtype).toBe(dtype);
        expectClose(logical(y), expected, 0, 0, 'where');
      }),
      { numRuns: numRuns() },
    );
  });
});
