import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { gemm, matmulKernel, matmulReference } from '../src/index.js';
import { LAYOUTS, broadcastableArb, expectClose, flatIndex, indices, logical, makeView, numRuns, rng, seedArb } from './views.js';

/** (..., M, K) @ (..., K, N) by the definition, reading logical values: the test's own reference. */
function naiveMatmul(a: Tensor, b: Tensor): { shape: number[]; values: number[] } {
  const av = logical(a);
  const bv = logical(b);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batch = T.broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const values: number[] = [];
  const pick = (opBatch: readonly number[], idx: number[]) => {
    const lead = idx.length - opBatch.length;
    return opBatch.map((d, i) => (d === 1 ? 0 : idx[lead + i]!));
  };
  for (const bi of indices(batch)) {
    const ab = pick(a.shape.slice(0, -2), bi);
    const bb = pick(b.shape.slice(0, -2), bi);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += av[flatIndex([...ab, i, p], a.shape)]! * bv[flatIndex([...bb, p, j], b.shape)]!;
        values.push(s);
      }
    }
  }
  return { shape: [...batch, m, n], values };
}

/** Sizes: mostly small (direct loop), sometimes past the 32^3 threshold into the blocked gemm. */
const dimArb = fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 9 }) }, { weight: 2, arbitrary: fc.integer({ min: 30, max: 70 }) });
const matmulLayoutArb = fc.constantFrom(...LAYOUTS);

describe('matmul', () => {
  test('blocked kernel equals the definition on random shapes, layouts and broadcast batches', () => {
    const batchArb = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }).chain((b) => fc.tuple(broadcastableArb(b), broadcastableArb(b)));
    fc.assert(
      fc.property(
        fc.tuple(dimArb, dimArb, dimArb),
        batchArb,
        matmulLayoutArb,
        matmulLayoutArb,
        seedArb,
        fc.constantFrom<DType>('f32', 'f64'),
        ([m, k, n], [ba, bb], la, lb, seed, dtype) => {
          const a = makeView([...ba, m, k], la, dtype, seed);
          const b = makeView([...bb, k, n], lb, dtype, seed + 1);
          const y = T.matmul(a, b);
          const ref = naiveMatmul(a, b);
          expect(y.shape).toEqual(ref.shape);
          const f32 = dtype === 'f32';
          const expected = f32 ? ref.values.map(Math.fround) : ref.values;
          expectClose(logical(y), expected, f32 ? 1e-5 : 1e-12, f32 ? 1e-4 : 1e-11, `matmul ${dtype} ${la}[${a.shape}] @ ${lb}[${b.shape}]`);
          // The exported reference kernel agrees too.
          const viaReference = matmulReference([a, b], undefined, { shape: y.shape, dtype });
          expectClose(viaReference, expected, f32 ? 1e-5 : 1e-12, f32 ? 1e-4 : 1e-11, 'matmulReference');
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('transposed operands (a.T @ b.T) multiply without a copy and match the reference', () => {
    const a = makeView([70, 45], 'dense', 'f64', 1).T; // (45, 70), strides [1, 45]
    const b = makeView([33, 70], 'dense', 'f64', 2).T; // (70, 33)
    expect(a.isContiguous || b.isContiguous).toBe(false);
    const out = { shape: [45, 33], dtype: 'f64' as const };
    expectClose(matmulKernel([a, b], undefined, out), matmulReference([a, b], undefined, out), 1e-13, 1e-12, 'a.T @ b.T');
  });

  test('gemm across every blocking boundary (M > MC, K > 2 KC, N > NC, ragged edges) equals the triple loop', () => {
    const [m, k, n] = [131, 261, 1030];
    const next = rng(7);
    const A = Float64Array.from({ length: m * k }, () => next() - 0.5);
    const B = Float64Array.from({ length: k * n }, () => next() - 0.5);
    // A is read transposed from a k×m buffer, B row-major: two different stride patterns.
    const At = new Float64Array(k * m);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) At[p * m + i] = A[i * k + p]!;
    const C = new Float64Array(m * n + 3);
    gemm(m, n, k, { data: At, offset: 0, rowStride: 1, colStride: m }, { data: B, offset: 0, rowStride: n, colStride: 1 }, C, 3, n);
    for (let trial = 0; trial < 400; trial++) {
      const i = Math.floor(next() * m);
      const j = Math.floor(next() * n);
      let s = 0;
      for (let p = 0; p < k; p++) s += A[i * k + p]! * B[p * n + j]!;
      expect(Math.abs(C[3 + i * n + j]! - s)).toBeLessThan(1e-12);
    }
    expect(C[0]).toBe(0);
  });

  test('integer matmul, empty dims and 1-D operands', () => {
    const a = T.tensor([[1, 2], [3, 4]], { dtype: 'i32' });
    expect(logical(T.matmul(a, a))).toEqual([7, 10, 15, 22]);
    expect(T.matmul(T.zeros([3, 0]), T.zeros([0, 2])).shape).toEqual([3, 2]);
    expect(logical(T.matmul(T.zeros([3, 0]), T.zeros([0, 2])))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(T.matmul(T.zeros([0, 4]), T.zeros([4, 2])).shape).toEqual([0, 2]);
    expect(logical(T.matmul(T.tensor([1, 2, 3]), T.tensor([4, 5, 6])))).toEqual([32]);
  });

  test('the TypeScript kernel keeps a large f32 product to f32 accuracy (accumulated in double)', () => {
    // The WebAssembly kernel accumulates in f32 and is held to its own bound in matmul-wasm.prop.test.ts.
    const a = makeView([64, 300], 'dense', 'f32', 3);
    const b = makeView([300, 50], 'transposed', 'f32', 4);
    const ref = naiveMatmul(a, b);
    expectClose(matmulKernel([a, b], undefined, { shape: [64, 50], dtype: 'f32' }), ref.values.map(Math.fround), 1e-6, 1e-5, 'f32 64x300x50');
  });
});
