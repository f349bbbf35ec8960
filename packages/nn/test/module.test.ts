import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, add, concat, matmul, memory, ones, randn, registerBackend, tidy, transpose, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { backward } from '@tessera/autograd';
import { Attention, Embedding, GatedMlp, KVCache, Linear, Module, RMSNorm, RotaryEmbedding, ropeInverseFrequencies } from '../src/index.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

class Block extends Module {
  readonly self_attn: Attention;
  readonly mlp: GatedMlp;
  readonly input_layernorm: RMSNorm;
  constructor(gen: Generator) {
    super();
    this.self_attn = this.child('self_attn', new Attention({ hiddenSize: 8, numHeads: 4, numKvHeads: 2 }, { generator: gen }));
    this.mlp = this.child('mlp', new GatedMlp(8, 16, 'silu', { generator: gen }));
    this.input_layernorm = this.child('input_layernorm', new RMSNorm(8));
  }
}

describe('Module', () => {
  it('names parameters with Hugging Face dotted paths', () => {
    const b = new Block(new Generator(0));
    expect(b.namedParameters().map(([n]) => n)).toEqual([
      'self_attn.q_proj.weight',
      'self_attn.k_proj.weight',
      'self_attn.v_proj.weight',
      'self_attn.o_proj.weight',
      'mlp.gate_proj.weight',
      'mlp.up_proj.weight',
      'mlp.down_proj.weight',
      'input_layernorm.weight',
    ]);
    expect(b.self_attn.k_proj.weight.shape).toEqual([4, 8]); // GQA: 2 kv heads of size 2
    expect(b.numParameters()).toBe(64 + 32 + 32 + 64 + 3 * 128 + 8);
  });

  it('round-trips a state dict and reports mismatches clearly', () => {
    const a = new Block(new Generator(1));
    const b = new Block(new Generator(2));
    b.loadStateDict(a.stateDict());
    for (const [[na, ta], [nb, tb]] of a.namedParameters().map((e, i) => [e, b.namedParameters()[i]!] as const)) {
      expect(nb).toBe(na);
      expect(Array.from(tb.dataSync())).toEqual(Array.from(ta.dataSync()));
    }
    const partial = new Map([...a.stateDict()].slice(1));
    expect(() => b.loadStateDict(partial)).toThrow(/missing: self_attn.q_proj.weight/);
    expect(() => b.loadStateDict(new Map([['self_attn.q_proj.weight', ones([3, 3])]]), { strict: false })).toThrow(
      /"self_attn.q_proj.weight" has shape \[3,3\] but the module expects \[8,8\]/,
    );
  });

  it('freezing removes parameters from the trainable set; train/eval propagate', () => {
    const b = new Block(new Generator(3));
    b.requiresGrad_(false);
    b.mlp.requiresGrad_(true);
    expect(b.trainableParameters().map(([n]) => n)).toEqual(['mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight']);
    b.eval();
    expect(b.self_attn.training).toBe(false);
  });
});

describe('layers', () => {
  it('skipInit builds zero-filled parameters without drawing from the generator', () => {
    const gen = new Generator(9);
    const l = new Linear(3, 2, { generator: gen, skipInit: true });
    const e = new Embedding(4, 3, { generator: gen, skipInit: true });
    expect(Array.from(l.weight.dataSync())).toEqual(new Array(6).fill(0));
    expect(Array.from(e.weight.dataSync())).toEqual(new Array(12).fill(0));
    expect(gen.getState().counter).toBe(0);
    expect(l.weight.requiresGrad).toBe(true);
  });

  it('Linear computes x Wᵀ + b and names bad inputs', async () => {
    const l = new Linear(3, 2, { generator: new Generator(4) });
    const x = randn([5, 3]);
    const ref = add(matmul(x, transpose(l.weight)), l.bias!);
    expect(Array.from(await l.forward(x).data())).toEqual(Array.from(await ref.data()));
    expect(() => l.forward(randn([5, 4]))).toThrow(/Linear: input \[5,4\] ends in 4 but the layer takes 3 features/);
  });

  it('incremental decoding with a KV cache equals attention over the full sequence', () => {
    const gen = new Generator(5);
    const attn = new Attention({ hiddenSize: 8, numHeads: 4, numKvHeads: 2 }, { generator: gen });
    const rotary = new RotaryEmbedding(2, 10000);
    const x = randn([2, 5, 8], { generator: gen });
    const full = attn.forward(x, { rotary }).dataSync();
    const cache = new KVCache();
    const parts: Tensor[] = [];
    parts.push(attn.forward(x.slice(1, 0, 3), { rotary, cache, layerIndex: 0 }));
    for (let t = 3; t < 5; t++) parts.push(attn.forward(x.slice(1, t, t + 1), { rotary, cache, layerIndex: 0 }));
    expect(cache.length).toBe(5);
    const inc = concat(parts, 1).dataSync();
    Array.from(inc).forEach((v, i) => expect(v).toBeCloseTo(full[i]!, 5));
    cache.dispose();
  });

  it('Llama 3 rope scaling keeps high frequencies and divides low ones by the factor', () => {
    const plain = ropeInverseFrequencies(64, 500000);
    const scaled = ropeInverseFrequencies(64, 500000, { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(scaled[0]).toBe(plain[0]);
    expect(scaled[31]).toBeCloseTo(plain[31]! / 8, 15);
    scaled.forEach((f, i) => expect(f).toBeLessThanOrEqual(plain[i]!));
  });

  it('a forward and backward through a block leaks nothing', () => {
    const b = new Block(new Generator(6));
    const rotary = new RotaryEmbedding(2);
    const x = randn([1, 4, 8]);
    const step = (): void =>
      tidy(() => {
        const h = b.self_attn.forward(b.input_layernorm.forward(x), { rotary });
        backward(b.mlp.forward(h).sum());
      });
    step();
    for (const p of b.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
    const before = memory().numUndisposed;
    step();
    for (const p of b.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
    expect(memory().numUndisposed).toBe(before);
  });
});

describe('KV cache across layers', () => {
  it('each layer takes positions from its own cache length (two layers sharing one cache)', () => {
    const gen = new Generator(12);
    const layers = [0, 1].map(() => new Attention({ hiddenSize: 8, numHeads: 2 }, { generator: gen }));
    const rotary = new RotaryEmbedding(4, 10000);
    const x = randn([1, 4, 8], { generator: gen });
    const stack = (input: Tensor, cache?: KVCache): Tensor => layers.reduce((h, l, i) => l.forward(h, { rotary, cache, layerIndex: i }), input);
    const full = stack(x).dataSync();
    const cache = new KVCache();
    const parts = [stack(x.slice(1, 0, 2), cache), stack(x.slice(1, 2, 3), cache), stack(x.slice(1, 3, 4), cache)];
    concat(parts, 1).dataSync().forEach((v, i) => expect(v).toBeCloseTo(full[i]!, 5));
    cache.dispose();
  });
});
