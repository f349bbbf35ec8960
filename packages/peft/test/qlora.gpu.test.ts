// A QLoRA training step on WebGPU (fused NF4 dequant-matmul forward and input gradient, LoRA adapters,
// AdamW) matches the same step on the CPU — loss, adapter gradients, updated adapters — and never
// holds the 4-bit base in full precision on the device: no nf4Dequantize runs and no GPU buffer as
// large as the f32 weight is ever requested.
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createWebGpuBackend, type WebGpuBackend } from '@tessera/kernels-webgpu';
import { backward } from '@tessera/autograd';
import { Module } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import { LoraLinear, Nf4Linear, PeftModel, quantizeNf4, type Nf4Weight } from '../src/index.js';

T.registerBackend(createCpuBackend());

/** The WebGPU backend, or null without an adapter; with env CI set a missing adapter fails the run. */
async function gpuOrNull(): Promise<WebGpuBackend | null> {
  try {
    const gpu = await createWebGpuBackend();
    T.registerBackend(gpu);
    T.setBackend('cpu');
    return gpu;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping WebGPU tests: ${(err as Error).message}`);
    return null;
  }
}
const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

// 45 x 70 = 3150 weights (not a multiple of 64: the last NF4 block is partial); 12600 bytes in f32.
const OUT = 45;
const IN = 70;

class Head extends Module {
  readonly proj: Nf4Linear;
  constructor(q: Nf4Weight, device: string) {
    super();
    this.proj = this.child('proj', new Nf4Linear(q, null, device));
  }
  forward(x: Tensor): Tensor {
    return this.proj.forward(x);
  }
}

interface StepResult {
  loss: number;
  grads: Map<string, Float32Array>;
  updated: Map<string, Float32Array>;
}

/** One step on `device`; adapters start from `init` (taken from the CPU model) when given. */
async function step(device: string, q: Nf4Weight, init?: Map<string, Float32Array>): Promise<StepResult & { initial: Map<string, Float32Array> }> {
  T.setBackend(device);
  try {
    const model = new Head(q, device);
    // init: false draws B too (PEFT's init_lora_weights=False), so both adapter gradients are non-zero.
    new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['proj'], initLoraWeights: false }, 'default', { generator: new T.Generator(3) });
    expect((model.proj as unknown as LoraLinear).base).toBeInstanceOf(Nf4Linear);
    const params = model.trainableParameters();
    if (init) for (const [name, p] of params) p.assign(T.tensor(init.get(name)!, { shape: [...p.shape], device }));
    // data(), not dataSync(): the webgpu backend reads asynchronously.
    const read = async (ts: [string, Tensor][]) => new Map(await Promise.all(ts.map(async ([n, t]) => [n, Float32Array.from((await t.data()) as ArrayLike<number>)] as const)));
    const initial = await read(params);
    const next = mulberry(5);
    const x = T.tensor(Array.from({ length: 2 * 7 * IN }, () => next() * 2 - 1), { shape: [2, 7, IN], device });
    const labels = T.tensor(Array.from({ length: 14 }, (_, i) => (i * 17) % OUT), { shape: [14], dtype: 'i32', device });
    const opt = new AdamW(params, { lr: 0.01 });
    const loss = T.tidy(() => {
      opt.zeroGrad();
      const l = T.crossEntropy(model.forward(x).reshape([14, OUT]), labels);
      backward(l);
      return l;
    });
    const grads = await read(params.map(([n, p]) => [n, p.grad!]));
    opt.step();
    const result = { loss: ((await loss.data()) as ArrayLike<number>)[0]!, grads, updated: await read(params), initial };
    [x, labels, loss].forEach((t) => t.dispose());
    model.dispose();
    return result;
  } finally {
    T.setBackend('cpu');
  }
}

function mulberry(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectClose(a: Float32Array, b: Float32Array, what: string, rel = 1e-4, abs = 1e-5): void {
  expect(b.length, what).toBe(a.length);
  a.forEach((x, i) => {
    if (!(Math.abs(x - b[i]!) <= abs + rel * Math.abs(x))) expect.fail(`${what}: element ${i}: cpu ${x}, webgpu ${b[i]}`);
  });
}

describe.skipIf(gpu === null)('QLoRA on WebGPU', () => {
  it('a LoRA step over an NF4 base matches the CPU and never materialises the f32 weight', async () => {
    const next = mulberry(1);
    const q = quantizeNf4(Array.from({ length: OUT * IN }, () => (next() - 0.5) * 0.4), [OUT, IN]);
    const cpu = await step('cpu', q);
    const ctx = gpu!.context;
    const acquire = ctx.acquire.bind(ctx);
    const requested: number[] = [];
    ctx.acquire = (bytes: number) => (requested.push(bytes), acquire(bytes));
    const kernels = gpu!.kernels as Map<T.OpDef, T.Kernel>;
    const dequantize = kernels.get(T.OPS.nf4Dequantize)!;
    let dequantizeCalls = 0;
    kernels.set(T.OPS.nf4Dequantize, (...args) => (dequantizeCalls++, dequantize(...args)));
    let webgpu: StepResult;
    try {
      webgpu = await step('webgpu', q, cpu.initial);
    } finally {
      ctx.acquire = acquire;
      kernels.set(T.OPS.nf4Dequantize, dequantize);
    }
    expect(dequantizeCalls).toBe(0);
    expect(Math.max(...requested)).toBeLessThan(OUT * IN * 4);
    expect(Math.abs(webgpu.loss - cpu.loss)).toBeLessThan(1e-5 + 1e-5 * Math.abs(cpu.loss));
    expect([...cpu.grads.keys()].sort()).toEqual(['proj.lora_A.default.weight', 'proj.lora_B.default.weight']);
    for (const [name, g] of cpu.grads) {
      expect(g.some((v) => v !== 0), `${name} gradient is non-zero`).toBe(true);
      expectClose(g, webgpu.grads.get(name)!, `gradient of ${name}`);
      expectClose(cpu.updated.get(name)!, webgpu.updated.get(name)!, `${name} after AdamW`);
    }
  });
});
