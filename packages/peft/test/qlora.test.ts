import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, NF4_CODE, OPS, crossEntropy, relu, matmul, memory, mul, nf4Dequantize, randint, randn, registerBackend, tensor, tidy, transpose, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { backward } from '@tessera/autograd';
import { Linear, Module } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import { readSafetensors, toTypedArray } from '@tessera/safetensors';
import { LoraLinear, Nf4Linear, PeftModel, dequantizeNf4, dynamicMap, nf4BlockScale, quantizeNf4 } from '../src/index.js';

let dequantizeCalls = 0;

beforeAll(() => {
  // The CPU backend with a counting nf4Dequantize kernel, to prove training never dequantises whole weights.
  const cpu = createCpuBackend();
  const dequantize = cpu.kernels.get(OPS.nf4Dequantize)!;
  (cpu.kernels as Map<unknown, unknown>).set(OPS.nf4Dequantize, ((inputs, attrs, out) => {
    dequantizeCalls++;
    return dequantize(inputs, attrs, out);
  }) as typeof dequantize);
  registerBackend(cpu);
});

describe('NF4 quantisation', () => {
  it("reproduces bitsandbytes' dynamic 8-bit map: all 256 entries, bit for bit", async () => {
    // The map torch builds in bitsandbytes' create_dynamic_map, written by scripts/reference/nf4_reference.py.
    const st = readSafetensors(await readFile(new URL('./fixtures/nf4-bitsandbytes/reference.safetensors', import.meta.url)));
    const want = toTypedArray(st.tensors.get('dynamic_map')!) as Float32Array;
    expect(want.length).toBe(256);
    expect(Array.from(new Uint32Array(Float32Array.from(dynamicMap()).buffer))).toEqual(Array.from(new Uint32Array(Float32Array.from(want).buffer)));
  });

  it('codes each value against its exact block absmax (as bitsandbytes does) and dequantises with the double-quantised one', () => {
    const gen = new Generator(1);
    const values = randn([4, 64], { generator: gen }).dataSync();
    const q = quantizeNf4(values, [4, 64]);
    const back = dequantizeNf4(q);
    for (let b = 0; b < 4; b++) {
      const block = Array.from(values.slice(b * 64, (b + 1) * 64));
      const absmax = Math.max(...block.map(Math.abs));
      const scale = nf4BlockScale(q, b);
      expect(Math.abs(scale - absmax) / absmax).toBeLessThan(0.02); // the double-quantised absmax stays close
      block.forEach((v, i) => {
        const x = v / absmax;
        const nearest = NF4_CODE.reduce((best, c) => (Math.abs(c - x) < Math.abs(best - x) ? c : best));
        expect(back[b * 64 + i]).toBe(Math.fround(nearest * scale));
      });
    }
    // The published NF4 code book: 16 values from -1 to 1 with an exact zero.
    expect(NF4_CODE.length).toBe(16);
    expect(NF4_CODE[7]).toBe(0);
    expect(NF4_CODE[0]).toBe(-1);
    expect(NF4_CODE[15]).toBe(1);
  });

  it('the nf4Dequantize kernel matches the host reference', () => {
    const q = quantizeNf4(randn([3, 70], { generator: new Generator(2) }).dataSync(), [3, 70]);
    const w = nf4Dequantize(tensor(q.packed, { dtype: 'u8' }), tensor(q.scalesQ, { dtype: 'u8' }), tensor(q.scales2), q);
    expect(Array.from(w.dataSync())).toEqual(Array.from(dequantizeNf4(q)));
  });
});

/** One AdamW step on the cross-entropy of `model(x)` against `y`, in a tidy scope; returns the loss. */
function adamWStep(model: Module & { forward(x: Tensor): Tensor }, lr: number, x: Tensor, y: Tensor): () => number {
  const opt = new AdamW(model.trainableParameters(), { lr });
  return () =>
    tidy(() => {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(x), y);
      backward(loss);
      opt.step();
      return loss.dataSync()[0]!;
    });
}

describe('QLoRA', () => {
  function nf4Of(rows: number, cols: number, seed: number): { layer: Nf4Linear; dense: Tensor } {
    const l = new Linear(cols, rows, { generator: new Generator(seed) });
    const layer = Nf4Linear.fromLinear(l);
    return { layer, dense: layer.denseWeight() };
  }

  it('the fused NF4 product equals its decomposition, forward and input gradient', () => {
    const { layer, dense } = nf4Of(300, 70, 3); // rows span two dequantisation tiles
    const x = randn([2, 5, 70], { generator: new Generator(4) }).requiresGrad_();
    const fused = layer.forward(x);
    const ref = matmul(x, transpose(dense)).add(layer.bias!);
    fused.dataSync().forEach((v, i) => expect(v).toBeCloseTo(ref.dataSync()[i]!, 4));
    const u = randn(fused.shape, { generator: new Generator(5) });
    tidy(() => backward(mul(fused, u).sum()));
    const g1 = x.grad!.dataSync().slice();
    x.grad = null;
    tidy(() => backward(mul(ref, u).sum()));
    x.grad!.dataSync().forEach((v, i) => expect(v).toBeCloseTo(g1[i]!, 4));
  });

  it('trains LoRA adapters over a 4-bit base without a full-precision copy of the weight', () => {
    class TwoLayer extends Module {
      readonly up_proj: Linear;
      readonly down_proj: Linear;
      constructor() {
        super();
        this.up_proj = this.child('up_proj', new Linear(64, 256, { generator: new Generator(6), bias: false }));
        this.down_proj = this.child('down_proj', new Linear(256, 8, { generator: new Generator(7), bias: false }));
      }
      forward(x: Tensor): Tensor {
        return this.down_proj.forward(relu(this.up_proj.forward(x)));
      }
    }
    const model = new TwoLayer();
    // Quantise the big layer: the Linear is replaced by its NF4 form and the dense weight dropped.
    const dense = model.up_proj;
    model.replaceChild('up_proj', Nf4Linear.fromLinear(dense));
    dense.weight.dispose();
    const peft = new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['up_proj', 'down_proj'] }, 'default', { generator: new Generator(8) });
    expect((model.up_proj as unknown as LoraLinear).base).toBeInstanceOf(Nf4Linear);
    expect(model.trainableParameters().every(([n]) => n.includes('lora_'))).toBe(true);
    const step = adamWStep(model, 0.02, randn([16, 64], { generator: new Generator(9) }), randint(0, 8, [16], { generator: new Generator(10) }));
    dequantizeCalls = 0;
    const first = step();
    let last = first;
    for (let i = 0; i < 40; i++) last = step();
    // Training ran the fused product only: the f32 weight was never dequantised whole.
    expect(dequantizeCalls).toBe(0);
    expect(last).toBeLessThan(first * 0.7);
    void peft;
  });
});

describe('Nf4Linear.denseWeight ownership', () => {
  it('is borrowed like a Linear weight: calls share one dequantisation, freed with its tidy scope or by dispose()', () => {
    const layer = Nf4Linear.fromLinear(new Linear(70, 40, { generator: new Generator(11) }));
    const before = memory().numUndisposed;
    dequantizeCalls = 0;
    const w = layer.denseWeight();
    expect(layer.denseWeight()).toBe(w);
    expect(dequantizeCalls).toBe(1);
    expect(memory().numUndisposed).toBe(before + 1);
    layer.dispose();
    expect(w.isDisposed).toBe(true);

    const scoped = Nf4Linear.fromLinear(new Linear(70, 40, { generator: new Generator(12) }));
    let inStep: Tensor | undefined;
    tidy(() => {
      inStep = scoped.denseWeight();
      expect(scoped.denseWeight()).toBe(inStep);
    });
    expect(inStep!.isDisposed).toBe(true);
    const next = scoped.denseWeight();
    expect(next.isDisposed).toBe(false);
    expect(next.shape).toEqual([40, 70]);
    scoped.dispose();
  });

  it('a DoRA training step over an NF4 base dequantises the weight once and leaves no tensor behind', () => {
    class Head extends Module {
      readonly proj: Nf4Linear;
      constructor() {
        super();
        this.proj = this.child('proj', Nf4Linear.fromLinear(new Linear(70, 40, { generator: new Generator(13) })));
      }
      forward(x: Tensor): Tensor {
        return this.proj.forward(x);
      }
    }
    const model = new Head();
    new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['proj'], useDora: true }, 'default', { generator: new Generator(14) });
    const step = adamWStep(model, 0.01, randn([6, 70], { generator: new Generator(15) }), randint(0, 40, [6], { generator: new Generator(16) }));
    step(); // the first step creates AdamW's state
    const before = memory().numUndisposed;
    dequantizeCalls = 0;
    step();
    expect(dequantizeCalls).toBe(1);
    expect(memory().numUndisposed).toBe(before);
  });
});
