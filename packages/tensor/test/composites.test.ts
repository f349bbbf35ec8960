// Forward values of composites and creation ops against figures computed by hand or by PyTorch.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Generator,
  arange,
  concat,
  crossEntropy,
  eye,
  gelu,
  layerNorm,
  logSoftmax,
  logsumexp,
  matmul,
  oneHot,
  pad,
  rand,
  randint,
  randn,
  rmsNorm,
  applyRotary,
  rotaryTables,
  scaledDotProductAttention,
  softmax,
  stack,
  tensor,
  tril,
  triu,
  variance,
  maskedFill,
  where,
  gt,
  dropout,
  mean,
  type Tensor,
} from '../src/index.js';
import { useCpu } from './cpu-backend.js';

beforeAll(useCpu);

async function expectClose(t: Tensor, expected: number[], tol = 1e-5): Promise<void> {
  const got = Array.from(await t.data());
  expect(got.length).toBe(expected.length);
  got.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(expected[i]!))));
}

describe('composites', () => {
  it('softmax and logSoftmax', async () => {
    const x = tensor([[1, 2, 3], [1000, 1000, 1000]]);
    await expectClose(softmax(x), [0.09003057, 0.24472847, 0.66524096, 1 / 3, 1 / 3, 1 / 3]);
    await expectClose(logSoftmax(tensor([1, 2, 3])), [-2.40760596, -1.40760596, -0.40760596]);
    await expectClose(logsumexp(tensor([1, 2, 3])), [3.40760596]);
  });

  it('crossEntropy with ignore index and label smoothing (PyTorch figures)', async () => {
    const logits = tensor([[1, 2, 3], [1, 2, 3]]);
    await expectClose(crossEntropy(logits, tensor([2, -100], { dtype: 'i32' })), [0.40760596]);
    await expectClose(crossEntropy(logits, tensor([2, 0], { dtype: 'i32' }), { labelSmoothing: 0.1 }), [(0.50760596 + (0.9 * 2.40760596 + 0.1 * 1.40760596)) / 2]);
    await expectClose(crossEntropy(logits, tensor([2, 0], { dtype: 'i32' }), { reduction: 'none' }), [0.40760596, 2.40760596]);
    expect(Number.isNaN(await crossEntropy(logits, tensor([-100, -100], { dtype: 'i32' })).item())).toBe(true);
  });

  it('layerNorm and rmsNorm', async () => {
    await expectClose(layerNorm(tensor([[1, 2, 3]]), tensor([1, 1, 2]), tensor([0, 1, 0])), [-1.2247357, 1, 2.4494714]);
    await expectClose(rmsNorm(tensor([[3, 4]]), tensor([1, 2]), 0), [3 / Math.sqrt(12.5), 8 / Math.sqrt(12.5)]);
  });

  it('gelu both forms', async () => {
    await expectClose(gelu(tensor([-1, 0, 1, 2])), [-0.15865526, 0, 0.84134474, 1.95449974]);
    await expectClose(gelu(tensor([-1, 0, 1, 2]), { approximate: 'tanh' }), [-0.15880801, 0, 0.84119199, 1.95459769]);
  });

  it('variance with and without correction', async () => {
    await expectClose(variance(tensor([1, 2, 3, 4])), [1.6666666]);
    await expectClose(variance(tensor([1, 2, 3, 4]), undefined, false, 0), [1.25]);
  });

  it('attention equals the explicit formula, with causal mask and grouped heads', async () => {
    const gen = new Generator(5);
    const q = randn([1, 2, 3, 4], { generator: gen });
    const k = randn([1, 1, 3, 4], { generator: gen });
    const v = randn([1, 1, 3, 4], { generator: gen });
    const out = scaledDotProductAttention(q, k, v, undefined, { causal: true });
    // explicit: both q heads share the single kv head
    const scores = matmul(q, k.transpose(-2, -1)).mul(0.5);
    const masked = where(gt(tril(tensor([[1, 1, 1], [1, 1, 1], [1, 1, 1]])), 0), scores, -Infinity);
    const ref = matmul(softmax(masked), v);
    await expectClose(out, Array.from(await ref.data()));
  });

  it('rotary: position 0 is the identity and norms are preserved', async () => {
    const { cos, sin } = rotaryTables(3, 4);
    const x = tensor([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]);
    const y = applyRotary(x, cos, sin);
    const rows = (await y.array()) as number[][];
    expect(rows[0]).toEqual([1, 2, 3, 4]);
    for (const r of rows) expect(Math.hypot(...r)).toBeCloseTo(Math.hypot(1, 2, 3, 4), 5);
    // rotate-half pairs (i, i + d/2): position 1, frequency 1 for pair (0, 2)
    expect(rows[1]![0]).toBeCloseTo(1 * Math.cos(1) - 3 * Math.sin(1), 5);
  });
});

describe('creation and indexing', () => {
  it('eye, arange, oneHot, tril/triu, pad, concat, stack, maskedFill', async () => {
    expect(await eye(2, 3).array()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(await arange(5).array()).toEqual([0, 1, 2, 3, 4]);
    expect(await arange(0, 1, 0.25).array()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(await oneHot(tensor([0, 2], { dtype: 'i32' }), 3).array()).toEqual([[1, 0, 0], [0, 0, 1]]);
    const m = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(await tril(m).array()).toEqual([[1, 0, 0], [4, 5, 0], [7, 8, 9]]);
    expect(await triu(m, 1).array()).toEqual([[0, 2, 3], [0, 0, 6], [0, 0, 0]]);
    expect(await pad(tensor([[1, 2]]), [[1, 0], [0, 2]], 9).array()).toEqual([[9, 9, 9, 9], [1, 2, 9, 9]]);
    expect(await concat([tensor([[1], [2]]), tensor([[3], [4]])], 1).array()).toEqual([[1, 3], [2, 4]]);
    expect((await stack([tensor([1, 2]), tensor([3, 4])], 1).array())).toEqual([[1, 3], [2, 4]]);
    expect(await maskedFill(tensor([1, 2, 3]), gt(tensor([1, 2, 3]), 1), 0).array()).toEqual([1, 0, 0]);
  });

  it('random draws are reproducible from a seed and well distributed', async () => {
    const a = await rand([1000], { generator: new Generator(9) }).data();
    const b = await rand([1000], { generator: new Generator(9) }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    const n = await randn([20000], { generator: new Generator(1) });
    expect(Math.abs(await mean(n).item())).toBeLessThan(0.03);
    expect(Math.abs((await variance(n).item()) - 1)).toBeLessThan(0.05);
    const ints = Array.from(await randint(3, 7, [2000], { generator: new Generator(2) }).data());
    expect(Math.min(...ints)).toBe(3);
    expect(Math.max(...ints)).toBe(6);
  });

  it('dropout keeps the expectation and is the identity in eval', async () => {
    const x = tensor(new Float32Array(20000).fill(1));
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    const y = await mean(dropout(x, 0.25, { generator: new Generator(4) })).item();
    expect(Math.abs(y - 1)).toBeLessThan(0.03);
  });
});
