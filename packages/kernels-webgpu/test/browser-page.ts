// The page that test/browser.gpu.test.ts bundles and opens in headless Chromium. It creates the
// WebGPU backend from navigator.gpu and the CPU backend side by side, runs the same ops on both on
// the same inputs (drawn on the CPU and uploaded to each, so a kernel is compared, not the precision of
// the GPU's randn), and puts the raw values on `window.tesseraResult`; the test does the comparing.
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { valueAndGrad } from '@tessera/autograd';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createWebGpuBackend } from '../src/index.js';

/** One op run on both backends: its values in row-major order. */
export interface BrowserCase {
  readonly name: string;
  readonly cpu: number[];
  readonly webgpu: number[];
}

/** What the page reports. */
export type BrowserResult =
  | {
      readonly ok: true;
      readonly adapterName: string;
      readonly fromNavigatorGpu: boolean;
      readonly cases: BrowserCase[];
      /** The error the out-of-range embedding lookup raised on WebGPU (null: none, a failure). */
      readonly boundsError: string | null;
      /** WebGPU tensors alive after the training steps minus before (0: nothing leaked). */
      readonly leakedTensors: number;
    }
  | { readonly ok: false; readonly error: string; readonly fromNavigatorGpu: boolean };

const DEVICES = ['cpu', 'webgpu'] as const;

/** Standard normal values of `shape` drawn on the CPU from `g`, placed on `dev`. */
type Normal = (shape: number[]) => Tensor;

function normalsOn(dev: string, g: T.Generator): Normal {
  return (shape) => {
    const values = Array.from(T.tidy(() => T.randn(shape, { generator: g, device: 'cpu' })).dataSync() as ArrayLike<number>);
    return T.tensor(values, { shape, device: dev });
  };
}

/** Runs `build` on each backend with the same seeded inputs and collects the values. */
async function onBoth(name: string, seed: number, build: (dev: string, normal: Normal, g: T.Generator) => Tensor | Tensor[]): Promise<BrowserCase> {
  const values: Record<string, number[]> = {};
  for (const dev of DEVICES) {
    const outs = T.tidy(() => [build(dev, normalsOn(dev, new T.Generator(seed)), new T.Generator(seed))].flat());
    const parts: number[] = [];
    for (const t of outs) parts.push(...Array.from((await t.data()) as ArrayLike<number>));
    outs.forEach((t) => t.dispose());
    values[dev] = parts;
  }
  return { name, cpu: values.cpu!, webgpu: values.webgpu! };
}

/** A 2-layer next-token model (embedding, tanh MLP, tied-free output) trained a few AdamW steps; returns losses and final weights. */
async function trainingRun(dev: string): Promise<{ values: number[]; leaked: number }> {
  const vocab = 13;
  const dim = 8;
  const normal = normalsOn(dev, new T.Generator(7));
  let params = T.tidy(() => [T.mul(normal([vocab, dim]), 0.5), T.mul(normal([dim, dim]), 0.3), T.mul(normal([dim, vocab]), 0.3)]);
  let moments = params.flatMap((p) => [T.zerosLike(p), T.zerosLike(p)]);
  const tokens = [1, 4, 2, 9, 12, 0, 3, 3, 7, 5, 11, 6];
  const ids = T.tensor(tokens.slice(0, -1), { dtype: 'i32', device: dev });
  const targets = T.tensor(tokens.slice(1), { dtype: 'i32', device: dev });
  const loss = (emb: Tensor, w1: Tensor, w2: Tensor) => T.crossEntropy(T.matmul(T.tanh(T.matmul(T.embedding(ids, emb), w1)), w2), targets); // (11, vocab) -> ()
  const live = () => T.memory().backends[dev]?.numUndisposed ?? 0;
  const values: number[] = [];
  let before = 0;
  for (let step = 1; step <= 3; step++) {
    if (step === 2) before = live();
    const [value, grads] = valueAndGrad(loss)(...params);
    const next = params.map((p, i) => T.adamwStep(p, grads[i]!, moments[2 * i]!, moments[2 * i + 1]!, { lr: 5e-2, step }));
    [...params, ...moments, ...grads].forEach((t) => t.dispose());
    params = next.map((r) => r.param);
    moments = next.flatMap((r) => [r.m, r.v]);
    values.push(await value.item());
    value.dispose();
  }
  const leaked = live() - before;
  for (const p of params) values.push(...Array.from((await p.data()) as ArrayLike<number>));
  [...params, ...moments, ids, targets].forEach((t) => t.dispose());
  return { values, leaked };
}

async function main(): Promise<BrowserResult> {
  const fromNavigatorGpu = typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu !== undefined;
  try {
    if (!fromNavigatorGpu) throw new Error('navigator.gpu is missing: start Chromium with --enable-unsafe-webgpu on a secure (localhost) origin');
    const gpu = await createWebGpuBackend();
    T.registerBackend(createCpuBackend());
    T.registerBackend(gpu);
    const cases: BrowserCase[] = [];
    cases.push(await onBoth('matmul (2, 17, 33) x (33, 9)ᵀ-view', 1, (dev, normal) => T.matmul(normal([2, 17, 33]), normal([9, 33]).transpose(0, 1))));
    cases.push(await onBoth('softmax (5, 37) last axis', 2, (dev, normal) => T.softmax(T.mul(normal([5, 37]), 3), -1)));
    cases.push(await onBoth('layerNorm (6, 40) with weight and bias', 3, (dev, normal) => T.layerNorm(normal([6, 40]), normal([40]), normal([40]))));
    cases.push(await onBoth('sum / max / mean reductions (7, 65)', 4, (dev, normal) => {
      const x = normal([7, 65]);
      return [T.sum(x, -1), T.max(x, 0), T.mean(x)];
    }));
    // Drawn on each device: the same Philox words, then WGSL's log and cos (whose precision the spec bounds loosely).
    cases.push(await onBoth('randn drawn on each device', 5, (dev, _normal, g) => T.randn([4, 50], { generator: g, device: dev })));
    const train: Record<string, { values: number[]; leaked: number }> = {};
    for (const dev of DEVICES) train[dev] = await trainingRun(dev);
    cases.push({ name: 'training: 3 AdamW steps (losses, then weights)', cpu: train.cpu!.values, webgpu: train.webgpu!.values });

    // A token id past the table: the WebGPU kernel cannot throw, the next read must.
    const table = T.zeros([4, 3], { device: 'webgpu' });
    const ids = T.tensor([0, 6], { dtype: 'i32', device: 'webgpu' });
    const rows = T.embedding(ids, table);
    const boundsError = await rows.data().then(() => null, (e: Error) => e.message);
    [table, ids, rows].forEach((t) => t.dispose());

    return { ok: true, adapterName: gpu.adapterName, fromNavigatorGpu, cases, boundsError, leakedTensors: train.webgpu!.leaked };
  } catch (err) {
    return { ok: false, error: (err as Error).stack ?? String(err), fromNavigatorGpu };
  }
}

(globalThis as { tesseraResult?: BrowserResult }).tesseraResult = await main();
