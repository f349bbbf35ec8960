// The fused backward kernels and the streaming cross-entropy on operands larger than one binding: with
// the binding limit lowered to 4 KiB (1024 f32), logits of 24-40 rows x 300-700 classes and norm/softmax
// inputs of several bindings run in boxes of whole rows and equal the CPU decomposition.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { OpDef, Tensor } from '@tessera/tensor';
import { expectSame, gpuOrNull, makeView, numRuns, rng } from './cross-backend.js';

const LIMIT = 4096;
const gpu = await gpuOrNull({ bindingLimitBytes: LIMIT });
afterAll(() => gpu?.destroy());
const runs = { numRuns: Math.min(numRuns(), 10) };

async function fusedEqualsCpu<A>(op: OpDef<A>, build: (device: string) => Tensor[], attrs: A, what: string, tol: [number, number]): Promise<void> {
  const g = build('webgpu');
  const c = build('cpu');
  expect(Math.max(...g.map((t) => (t.storage.data as GPUBuffer).size))).toBeGreaterThan(LIMIT);
  const fused = T.apply(op, g, attrs);
  const cpu = T.apply(op, c, attrs);
  try {
    await expectSame(cpu, fused, `${op.name} ${what} (webgpu, 4 KiB bindings, vs cpu)`, tol);
  } finally {
    [...g, ...c, fused, cpu].forEach((t) => t.dispose());
  }
}

describe.skipIf(gpu === null)('fused backward kernels over binding windows', () => {
  test('crossEntropyLosses and crossEntropyBackward', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 24, max: 40 }), fc.integer({ min: 300, max: 700 }), fc.integer({ min: 0, max: 1e6 }), async (rows, c, seed) => {
        const next = rng(seed);
        const ids = Array.from({ length: rows }, () => (next() < 0.25 ? -100 : Math.floor(next() * c)));
        for (const op of [T.OPS.crossEntropyLosses, T.OPS.crossEntropyBackward]) {
          const build = (dev: string) => [
            makeView(dev, [rows, c], 'dense', 'f32', seed),
            T.tensor(ids, { shape: [rows], dtype: 'i32', device: dev }),
            ...(op === T.OPS.crossEntropyBackward ? [makeView(dev, [rows], 'dense', 'f32', seed + 1)] : []),
          ];
          await fusedEqualsCpu(op, build, { ignoreIndex: -100, labelSmoothing: 0.1 }, `[${rows}, ${c}]`, op === T.OPS.crossEntropyBackward ? [1e-4, 1e-6] : [1e-5, 1e-4]);
        }
      }),
      runs,
    );
  });

  test('softmaxBackward, logSoftmaxBackward, layerNormBackward, rmsNormBackward', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 20, max: 60 }), fc.integer({ min: 70, max: 200 }), fc.integer({ min: 0, max: 1e6 }), async (rows, d, seed) => {
        const pair = (dev: string) => [makeView(dev, [rows, d], 'dense', 'f32', seed), makeView(dev, [rows, d], 'dense', 'f32', seed + 1)];
        await fusedEqualsCpu(T.OPS.softmaxBackward, pair, { axis: 1 }, `[${rows}, ${d}]`, [1e-4, 1e-5]);
        await fusedEqualsCpu(T.OPS.logSoftmaxBackward, pair, { axis: 1 }, `[${rows}, ${d}]`, [1e-4, 1e-5]);
        const withWeight = (dev: string) => [...pair(dev), makeView(dev, [d], 'dense', 'f32', seed + 2)];
        await fusedEqualsCpu(T.OPS.layerNormBackward, withWeight, { eps: 1e-5, hasWeight: true }, `[${rows}, ${d}]`, [1e-4, 1e-4]);
        await fusedEqualsCpu(T.OPS.rmsNormBackward, withWeight, { eps: 1e-6, hasWeight: true }, `[${rows}, ${d}]`, [1e-4, 1e-4]);
      }),
      runs,
    );
  });
});

describe.skipIf(gpu === null)('fused cross-entropy targets', () => {
  test('a target out of range that is not ignored is raised at the next read, as gather raises it', async () => {
    const logits = makeView('webgpu', [3, 4], 'dense', 'f32', 1);
    const targets = T.tensor([1, -100, 4], { dtype: 'i32', device: 'webgpu' });
    const loss = T.crossEntropy(logits, targets);
    await expect(loss.data()).rejects.toThrow(/crossEntropy: index 4 at position \[2\].*out of range for axis 1 of size 4/);
    const inRange = T.tensor([1, -100, 3], { dtype: 'i32', device: 'webgpu' });
    const ok = T.crossEntropy(logits, inRange, { reduction: 'none' });
    expect(Array.from((await ok.data()) as Float32Array)[1]).toBe(0);
    [logits, targets, loss, inRange, ok].forEach((t) => t.dispose());
  });
});
