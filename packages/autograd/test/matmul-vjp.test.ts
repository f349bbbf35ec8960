// The matmul gradient of an operand that every batch entry shares (x @ W with x (B, T, C)) is one
// product with the batch folded into the contraction, not a (B, ·, ·) batched gradient that the
// engine then sums: the products the kernel is asked for are recorded and their shapes checked.
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, OPS, matmul, mul, randn, registerBackend, setBackend, sum, tidy, transpose, type Kernel, type OpDef, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { grad } from '../src/index.js';

/** Output shapes of every matmul the backend ran since the last `take()`. */
const products: number[][] = [];
const take = (): number[][] => products.splice(0);

beforeAll(() => {
  const backend = createCpuBackend({ name: 'cpu-matmul-shapes' });
  const kernels = backend.kernels as Map<OpDef, Kernel>;
  const matmulKernel = kernels.get(OPS.matmul)!;
  kernels.set(OPS.matmul, (inputs, attrs, out) => (products.push([...out.shape]), matmulKernel(inputs, attrs, out)));
  registerBackend(backend);
  setBackend('cpu-matmul-shapes');
});

const gen = new Generator(3);
const rand = (shape: number[]): Tensor => randn(shape, { generator: gen, dtype: 'f64' });

/** Σ over the batch of the per-entry products, as the batched rule computed it (the reference). */
const batchedSum = (lhs: Tensor, rhs: Tensor): Tensor => sum(matmul(lhs, rhs), [0]);

describe('matmul vjp of a batch-shared operand', () => {
  it('x @ W.T with x (4, 5, 3): dW is one (6, 3) product, dense in W\'s layout; dx stays batched', () => {
    tidy(() => {
      const x = rand([4, 5, 3]);
      const w = rand([6, 3]);
      const dy = rand([4, 5, 6]);
      take();
      const [dx, dw] = grad((a, b) => sum(mul(matmul(a, transpose(b)), dy)))(x, w) as [Tensor, Tensor];
      expect(take()).toEqual([[4, 5, 6], [4, 5, 3], [6, 3]]); // forward, dx = dY W, dW = dYᵀ X folded
      expect(dw.shape).toEqual([6, 3]);
      expect(dw.isContiguous).toBe(true); // what the fused AdamW update needs
      expectClose(dw, transpose(batchedSum(transpose(x, 1, 2), dy)));
      expectClose(dx, matmul(dy, w));
    });
  });

  it('W @ xᵀ with W (6, 5) shared on the left: dW is one (6, 5) product', () => {
    tidy(() => {
      const w = rand([6, 5]);
      const xt = rand([4, 3, 5]); // the batch enters as a transposed view, so folding copies only dY
      const dy = rand([4, 6, 3]);
      take();
      const [dw] = grad((a, b) => sum(mul(matmul(a, transpose(b)), dy)))(w, xt) as [Tensor, Tensor];
      expect(take()).toEqual([[4, 6, 3], [6, 5], [4, 5, 3]]); // forward, dW folded, d(xᵀ) batched
      expectClose(dw, batchedSum(dy, xt));
    });
  });

  it('keeps the batched product when folding would copy more than the batched gradient holds', () => {
    tidy(() => {
      const w = rand([6, 5]);
      const x = rand([4, 5, 3]); // contiguous: folding would copy dY (72) and x (60) against 4·6·5 = 120
      const dy = rand([4, 6, 3]);
      take();
      const [dw] = grad((a, b) => sum(mul(matmul(a, b), dy)))(w, x) as [Tensor, Tensor];
      expect(take()).toEqual([[4, 6, 3], [4, 6, 5], [4, 5, 3]]);
      expectClose(dw, batchedSum(dy, transpose(x, 1, 2)));
    });
  });

  it('an all-ones batch (1, 1, 3, 6) is shared too, and its gradient keeps that shape', () => {
    tidy(() => {
      const x = rand([2, 4, 5, 3]);
      const w = rand([1, 1, 3, 6]);
      const dy = rand([2, 4, 5, 6]);
      take();
      const [dw] = grad((b) => sum(mul(matmul(x, b), dy)))(w) as [Tensor];
      expect(take()).toEqual([[2, 4, 5, 6], [3, 6]]);
      expect(dw.shape).toEqual([1, 1, 3, 6]);
      expectClose(dw.reshape([3, 6]), sum(matmul(transpose(x), dy), [0, 1]));
    });
  });
});

function expectClose(actual: Tensor, expected: Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < e.length; i++) expect(a[i]).toBeCloseTo(e[i]!, 10);
}
