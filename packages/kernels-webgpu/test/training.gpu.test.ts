// Gradients on WebGPU: every gradient rule composed from WebGPU kernels agrees with the CPU, a
// 1-block transformer's loss and gradients match, and a training step (forward, backward, AdamW)
// leaks no tensors and no GPU buffers.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { valueAndGrad } from '@tessera/autograd';
import { MAX_BATCH } from '../src/gpu-context.js';
import { expectSame, gpuOrNull, makeView, numRuns, shapeArb, type ValueKind } from './cross-backend.js';
import { settleDroppedTensors } from './settle-dropped.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());
const GRAD_TOL: [number, number] = [2e-4, 2e-4];

type Fn = (...xs: Tensor[]) => Tensor;

// [name, arity, function, value kind, shape of each input from a base shape]
const GRAD_CASES: [string, Fn, ValueKind, (s: number[]) => number[][]][] = [
  ['exp·tanh·sigmoid', (x) => T.mul(T.exp(T.tanh(x)), T.sigmoid(x)), 'real', (s) => [s]],
  ['log·sqrt·rsqrt', (x) => T.add(T.log(x), T.mul(T.sqrt(x), T.rsqrt(x))), 'positive', (s) => [s]],
  ['erf·softplus·gelu·silu', (x) => T.add(T.add(T.erf(x), T.softplus(x)), T.add(T.gelu(x), T.silu(x))), 'real', (s) => [s]],
  ['div·pow·maximum', (a, b) => T.add(T.div(a, b), T.add(T.pow(a, b), T.maximum(a, b))), 'positive', (s) => [s, s.map((d, i) => (i === 0 ? 1 : d))]],
  ['matmul', (a, b) => T.matmul(a, b), 'real', (s) => [[...s.slice(0, 1), 3, 5], [5, 4]]],
  ['sum·max·mean', (x) => T.add(T.sum(x, -1, true), T.mul(T.max(x, -1, true), T.mean(x))), 'real', (s) => [s]],
  ['softmax·logSoftmax', (x) => T.add(T.softmax(x, -1), T.logSoftmax(x, -1)), 'real', (s) => [s]],
  ['layerNorm·rmsNorm', (x, w) => T.add(T.layerNorm(x, w), T.rmsNorm(x, w)), 'real', (s) => [[...s, 6], [6]]],
  ['concat·pad·slice', (a, b) => T.pad(T.concat([a, b.slice(0, 0, a.shape[0])], -1), [[1, 2]]), 'real', (s) => [s, [s[0]! + 1, ...s.slice(1)]]],
  ['gather·indexSelect', (x) => T.indexSelect(x, 0, T.tensor([0, 0, 1], { dtype: 'i32', device: x.device })), 'real', (s) => [[2, ...s]]],
];

describe.skipIf(gpu === null)('gradients on WebGPU equal gradients on the CPU', () => {
  for (const [name, fn, kind, shapes] of GRAD_CASES) {
    test(name, async () => {
      await fc.assert(
        fc.asyncProperty(shapeArb(2, 4).filter((s) => s.length > 0 && s.every((d) => d > 0)), fc.integer({ min: 0, max: 1e6 }), async (s, seed) => {
          const results: Tensor[][] = [];
          for (const dev of ['cpu', 'webgpu']) {
            const inputs = shapes(s).map((shape, i) => makeView(dev, shape, 'dense', 'f32', seed + i, kind));
            const [value, grads] = valueAndGrad((...xs: Tensor[]) => {
              const y = fn(...xs);
              return T.sum(T.mul(y, makeView(dev, y.shape, 'dense', 'f32', seed + 99, 'unit')));
            })(...inputs);
            results.push([value, ...grads]);
            inputs.forEach((t) => t.dispose());
          }
          for (let i = 0; i < results[0]!.length; i++) await expectSame(results[0]![i]!, results[1]![i]!, `${name} [${s}] output ${i}`, GRAD_TOL);
          results.flat().forEach((t) => t.dispose());
        }),
        { numRuns: Math.min(numRuns(), 10) },
      );
    });
  }
});

/** Parameters of a 1-block pre-norm transformer (RMSNorm, causal RoPE attention, SiLU MLP), from a seed. */
function transformerParams(device: string, vocab: number, dim: number, hidden: number): Tensor[] {
  const shapes = [[vocab, dim], [dim], [dim, dim], [dim, dim], [dim, dim], [dim, dim], [dim], [dim, hidden], [hidden, dim], [dim], [dim, vocab]];
  return shapes.map((s, i) => {
    const t = makeView(device, s, 'dense', 'f32', 1000 + i, 'unit');
    const scaled = s.length === 1 ? T.add(T.mul(t, 0.1), 1) : T.mul(t, 1 / Math.sqrt(s[0]!));
    t.dispose();
    return scaled;
  });
}

function transformerLoss(ids: Tensor, targets: Tensor, heads: number): (...p: Tensor[]) => Tensor {
  return (emb, n1, wq, wk, wv, wo, n2, w1, w2, nf, head) => {
    const [b, t] = ids.shape as [number, number];
    const dim = emb!.shape[1]!;
    const hd = dim / heads;
    const x = T.embedding(ids, emb!); // (B, T, C)
    const h = T.rmsNorm(x, n1);
    const split = (y: Tensor) => T.transpose(y.reshape([b, t, heads, hd]), 1, 2); // (B, H, T, D)
    const { cos, sin } = T.rotaryTables(t, hd, { device: ids.device });
    const q = T.applyRotary(split(T.matmul(h, wq!)), cos, sin);
    const k = T.applyRotary(split(T.matmul(h, wk!)), cos, sin);
    const v = split(T.matmul(h, wv!));
    const att = T.transpose(T.scaledDotProductAttention(q, k, v, undefined, { causal: true }), 1, 2).reshape([b, t, dim]);
    const x2 = T.add(x, T.matmul(att, wo!));
    const m = T.matmul(T.silu(T.matmul(T.rmsNorm(x2, n2), w1!)), w2!);
    const x3 = T.add(x2, m);
    const logits = T.matmul(T.rmsNorm(x3, nf), head!); // (B, T, V)
    return T.crossEntropy(logits, targets);
  };
}

describe.skipIf(gpu === null)('a 1-block transformer on WebGPU', () => {
  const [vocab, dim, hidden, heads, b, t] = [11, 8, 12, 2, 2, 5];
  const tokens = Array.from({ length: b * t }, (_, i) => (i * 7 + 3) % vocab);
  const next = Array.from({ length: b * t }, (_, i) => (i * 5 + 1) % vocab);

  test('gives the CPU loss and gradients', async () => {
    const out: Tensor[][] = [];
    for (const dev of ['cpu', 'webgpu']) {
      const params = transformerParams(dev, vocab, dim, hidden);
      const ids = T.tensor(tokens, { shape: [b, t], dtype: 'i32', device: dev });
      const targets = T.tensor(next, { shape: [b, t], dtype: 'i32', device: dev });
      const [loss, grads] = valueAndGrad(transformerLoss(ids, targets, heads))(...params);
      out.push([loss, ...grads]);
      [...params, ids, targets].forEach((p) => p.dispose());
    }
    for (let i = 0; i < out[0]!.length; i++) await expectSame(out[0]![i]!, out[1]![i]!, i === 0 ? 'loss' : `gradient of parameter ${i - 1}`, GRAD_TOL);
    out.flat().forEach((x) => x.dispose());
  });

  test('a training step (forward, backward, AdamW) leaks no tensors or GPU buffers and goes out in few submits', async () => {
    const params = transformerParams('webgpu', vocab, dim, hidden);
    const moments = params.flatMap((p) => [T.zerosLike(p), T.zerosLike(p)]);
    const ids = T.tensor(tokens, { shape: [b, t], dtype: 'i32', device: 'webgpu' });
    const targets = T.tensor(next, { shape: [b, t], dtype: 'i32', device: 'webgpu' });
    const step = async (n: number) => {
      const [loss, grads] = valueAndGrad(transformerLoss(ids, targets, heads))(...params);
      params.forEach((p, i) => {
        const r = T.adamwStep(p, grads[i]!, moments[2 * i]!, moments[2 * i + 1]!, { lr: 1e-2, step: n });
        p.dispose();
        moments[2 * i]!.dispose();
        moments[2 * i + 1]!.dispose();
        params[i] = r.param;
        moments[2 * i] = r.m;
        moments[2 * i + 1] = r.v;
      });
      grads.forEach((g) => g.dispose());
      const value = await loss.item();
      loss.dispose();
      return value;
    };
    await settleDroppedTensors(() => gpu!.memory().liveBytes); // earlier tests' garbage
    const first = await step(1); // warm the pool and pipeline cache
    await gpu!.sync!();
    const tensorsBefore = T.memory().backends.webgpu?.numUndisposed;
    const bytesBefore = gpu!.memory().liveBytes;
    const counted = { ...gpu!.context.counters };
    const second = await step(2);
    const submits = gpu!.context.counters.submits - counted.submits;
    const dispatches = gpu!.context.counters.dispatches - counted.dispatches;
    // One submit per full batch of dispatches plus the loss readback: dispatches are never submitted one by one.
    expect(submits).toBeLessThanOrEqual(Math.ceil(dispatches / MAX_BATCH) + 1);
    expect(dispatches).toBeGreaterThan(100);
    await gpu!.sync!();
    expect(T.memory().backends.webgpu?.numUndisposed).toBe(tensorsBefore);
    expect(gpu!.memory().liveBytes).toBe(bytesBefore);
    expect(second).toBeLessThan(first);
    [...params, ...moments, ids, targets].forEach((x) => x.dispose());
  });
});
