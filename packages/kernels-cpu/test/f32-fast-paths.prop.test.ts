// The per-op f32 loops (kernels/binary-f32.ts, kernels/unary-f32.ts) held to the plain table kernels
// they replace, bit for bit: every layout a view can take (dense, offset, transposed, sliced,
// broadcast), scalar, row and column broadcasts, odd, size-1 and empty dims.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { OpDef, Tensor } from '@tessera/tensor';
import { BINARY_FUNCTIONS, BINARY_KERNELS, binaryKernel } from '../src/kernels/binary.js';
import { F32_ROW_LOOPS } from '../src/kernels/binary-f32.js';
import { F32_UNARY_LOOPS } from '../src/kernels/unary-f32.js';
import { UNARY_FUNCTIONS, UNARY_KERNELS_TS, unaryKernel } from '../src/kernels/unary.js';
import { expectIdentical } from './identical-arrays.js';
import { broadcastableArb, layoutArb, makeView, numRuns, seedArb, type Layout, type ValueKind } from './views.js';

/** Shapes of rank 0-4 with sizes 0-11 (odd sizes, size 1 and empty dims included). */
const shapeArb = fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 10, arbitrary: fc.integer({ min: 2, max: 11 }) }), { maxLength: 4 });
const pairArb = shapeArb.chain((out) => fc.tuple(broadcastableArb(out), broadcastableArb(out)));
const operandArb = fc.tuple(layoutArb, seedArb);

/** Same elements, NaN equal to NaN and -0 distinct from 0. */
const nameOf = (op: OpDef): string => op.name;
// Values that exercise the edges of each formula: signed zeros, infinities, NaN, subnormals, f32 extremes.
const EDGES = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, 3.4e38, -3.4e38, 1, -1, 0.5, 88.7, -103.9, 20.5, -37.5];

describe('f32 binary loops equal the table kernel', () => {
  for (const [op, loop] of F32_ROW_LOOPS) {
    const plain = binaryKernel(op, BINARY_FUNCTIONS.get(op)!);
    const fast = BINARY_KERNELS.get(op)!;
    test(`${nameOf(op)} over broadcast strided views`, () => {
      expect(loop).toBeTypeOf('function');
      fc.assert(
        fc.property(pairArb, operandArb, operandArb, ([sa, sb], [la, seedA], [lb, seedB]) => {
          const a = makeView(sa, la as Layout, 'f32', seedA);
          const b = makeView(sb, lb as Layout, 'f32', seedB, nameOf(op) === 'div' ? 'positive' : 'real');
          const out = { shape: T.broadcastShapes(sa, sb), dtype: 'f32' as const };
          const got = fast([a, b], undefined, out);
          expect(got).toBeInstanceOf(Float32Array);
          expectIdentical(got, plain([a, b], undefined, out), `${nameOf(op)} ${la}[${sa}] ${lb}[${sb}]`, 'the plain kernel');
        }),
        { numRuns: numRuns() },
      );
    });

    test(`${nameOf(op)} on NaN, infinities, signed zeros and subnormals (dense, scalar, row, column)`, () => {
      const grid = T.tensor(EDGES, { dtype: 'f32' });
      const cases: [Tensor, Tensor][] = [
        [grid, T.tensor(EDGES.map((_, i) => EDGES[(i * 7) % EDGES.length]!), { dtype: 'f32' })],
        ...EDGES.map((e): [Tensor, Tensor] => [grid, T.tensor(e, { dtype: 'f32' })]),
        ...EDGES.map((e): [Tensor, Tensor] => [T.tensor(e, { dtype: 'f32' }), grid]),
        [grid.reshape([1, EDGES.length]), grid.reshape([EDGES.length, 1])],
        [grid.reshape([4, 4]), grid.reshape([4, 4]).permute([1, 0])],
      ];
      for (const [a, b] of cases) {
        const out = { shape: T.broadcastShapes(a.shape, b.shape), dtype: 'f32' as const };
        expectIdentical(fast([a, b], undefined, out), plain([a, b], undefined, out), `${nameOf(op)} [${a.shape}] [${b.shape}]`, 'the plain kernel');
      }
    });
  }

  test('f64 and integer operands still take the table kernel (their results keep their dtype)', () => {
    const a = T.tensor([1, 2, 3], { dtype: 'f64' });
    expect(BINARY_KERNELS.get(T.OPS.add)!([a, a], undefined, { shape: [3], dtype: 'f64' })).toBeInstanceOf(Float64Array);
    const i = T.tensor([2147483647], { dtype: 'i32' });
    expect([...BINARY_KERNELS.get(T.OPS.mul)!([i, i], undefined, { shape: [1], dtype: 'i32' })]).toEqual([1]);
  });
});

/** Values each unary op is defined on. */
const unaryKind = (name: string): ValueKind => (name === 'log' || name === 'sqrt' || name === 'rsqrt' ? 'positive' : name === 'log1p' ? 'unit' : 'real');

describe('f32 unary loops equal the table kernel', () => {
  for (const [op] of F32_UNARY_LOOPS) {
    const plain = unaryKernel(UNARY_FUNCTIONS.get(op)!);
    // The TypeScript loops (large dense exp/tanh/sigmoid go to WebAssembly by default: test/wasm-unary.prop.test.ts).
    const fast = UNARY_KERNELS_TS.get(op)!;
    test(`${nameOf(op)} over strided views and edge values`, () => {
      fc.assert(
        fc.property(shapeArb, operandArb, (shape, [layout, seed]) => {
          const x = makeView(shape, layout as Layout, 'f32', seed, unaryKind(nameOf(op)));
          const out = { shape, dtype: 'f32' as const };
          const got = fast([x], undefined, out);
          expect(got).toBeInstanceOf(Float32Array);
          expectIdentical(got, plain([x], undefined, out), `${nameOf(op)} ${layout}[${shape}]`, 'the plain kernel');
        }),
        { numRuns: numRuns() },
      );
      const edges = T.tensor(EDGES, { dtype: 'f32' }).reshape([4, 4]).permute([1, 0]);
      const out = { shape: [4, 4], dtype: 'f32' as const };
      expectIdentical(fast([edges], undefined, out), plain([edges], undefined, out), `${nameOf(op)} edges`, 'the plain kernel');
    });
  }
});
