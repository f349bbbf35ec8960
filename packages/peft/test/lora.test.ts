import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, add, clone, div, embedding, matmul, memory, mul, randint, randn, registerBackend, sqrt, sub, sum, tensor, tidy, transpose, crossEntropy, reshape, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { backward } from '@tessera/autograd';
import { Embedding, Linear, Module } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import { LoraEmbedding, LoraLinear, PeftModel, TiedEmbeddingCopy, adapterFiles, fromPeftJson, loadAdapterFiles, loraConfig, toPeftJson } from '../src/index.js';
import { readSafetensors } from '@tessera/safetensors';
import { LlamaForCausalLM, llamaConfig } from '@tessera/models';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

/** A toy model with the layer names of a Llama block. */
class Toy extends Module {
  readonly embed_tokens: Embedding;
  readonly q_proj: Linear;
  readonly v_proj: Linear;
  readonly lm_head: Linear;
  constructor(gen: Generator, dtype: 'f32' | 'f64' = 'f32') {
    super();
    this.embed_tokens = this.child('embed_tokens', new Embedding(11, 6, { generator: gen, dtype }));
    this.q_proj = this.child('q_proj', new Linear(6, 6, { generator: gen, dtype }));
    this.v_proj = this.child('v_proj', new Linear(6, 6, { generator: gen, dtype, bias: false }));
    this.lm_head = this.child('lm_head', new Linear(6, 11, { generator: gen, dtype }));
  }
  forward(ids: Tensor): Tensor {
    const h = this.embed_tokens.forward(ids);
    return this.lm_head.forward(add(h, this.v_proj.forward(this.q_proj.forward(h))));
  }
}

const ids = (): Tensor => tensor([[1, 2, 3, 4], [5, 6, 7, 8]], { dtype: 'i32' });

function randomizeB(peft: PeftModel, name: string, gen: Generator): void {
  for (const [, layer] of peft.loraLayers()) {
    if (layer instanceof LoraLinear) {
      const b = layer.lora_B.get(name);
      if (b) tidy(() => void b.weight.assign(mul(randn(b.weight.shape, { generator: gen, dtype: b.weight.dtype }), 0.1)));
    }
  }
}

describe('LoRA', () => {
  it('starts as the identity (B = 0), A within the kaiming bound, and trains only adapters', () => {
    const gen = new Generator(1);
    const model = new Toy(gen);
    const before = model.forward(ids()).dataSync().slice();
    const peft = new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }, 'default', { generator: gen });
    expect(Array.from(model.forward(ids()).dataSync())).toEqual(Array.from(before));
    const q = model.q_proj as unknown as LoraLinear;
    expect(q).toBeInstanceOf(LoraLinear);
    expect(Math.max(...Array.from(q.lora_A.get('default')!.weight.dataSync()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(6));
    expect(model.trainableParameters().map(([n]) => n)).toEqual([
      'q_proj.lora_A.default.weight',
      'q_proj.lora_B.default.weight',
      'v_proj.lora_A.default.weight',
      'v_proj.lora_B.default.weight',
    ]);
    // base names are unchanged, so the model still loads its checkpoint
    expect(model.stateDict().has('q_proj.weight')).toBe(true);
    const lines: string[] = [];
    peft.printTrainableParameters((l) => lines.push(l));
    expect(lines[0]).toBe('trainable params: 96 || all params: 317 || trainable%: 30.2839');
  });

  it('computes base(x) + B A x · alpha/r, and alpha/√r with rsLoRA', () => {
    for (const useRslora of [false, true]) {
      const gen = new Generator(2);
      const model = new Toy(gen);
      const x = randn([3, 6], { generator: gen });
      const qBase = model.q_proj;
      const base = qBase.forward(x).dataSync().slice();
      const peft = new PeftModel(model, { r: 4, loraAlpha: 16, useRslora, targetModules: ['q_proj'] }, 'default', { generator: gen });
      randomizeB(peft, 'default', gen);
      const q = model.q_proj as unknown as LoraLinear;
      const a = q.lora_A.get('default')!.weight;
      const b = q.lora_B.get('default')!.weight;
      const scaling = useRslora ? 16 / 2 : 16 / 4;
      const expected = add(tensor(Array.from(base), { shape: [3, 6] }), mul(matmul(matmul(x, transpose(a)), transpose(b)), scaling)).dataSync();
      const got = q.forward(x).dataSync();
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
      expect(q.settings.get('default')!.scaling).toBe(scaling);
    }
  });

  it('targets by regex and all-linear (never the output head)', () => {
    const m1 = new Toy(new Generator(3));
    new PeftModel(m1, { targetModules: /.*_proj/ });
    expect(m1.q_proj).toBeInstanceOf(LoraLinear);
    expect(m1.lm_head).toBeInstanceOf(Linear);
    const m2 = new Toy(new Generator(3));
    new PeftModel(m2, { targetModules: 'all-linear' });
    expect([m2.q_proj, m2.v_proj].every((l) => l instanceof LoraLinear)).toBe(true);
    expect(m2.lm_head).not.toBeInstanceOf(LoraLinear);
    expect(() => new PeftModel(new Toy(new Generator(3)), { targetModules: ['k_proj'] })).toThrow(/matched no Linear or Embedding in the model; its layers are named: embed_tokens, q_proj, v_proj, lm_head/);
  });

  it('rank and alpha patterns override per module', () => {
    const model = new Toy(new Generator(4));
    new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'], rankPattern: { v_proj: 2 }, alphaPattern: { v_proj: 6 } });
    const v = model.v_proj as unknown as LoraLinear;
    expect(v.lora_A.get('default')!.weight.shape).toEqual([2, 6]);
    expect(v.settings.get('default')!.scaling).toBe(3);
  });

  it('DoRA: starts as the base, and equals the rescaled merged weight', () => {
    const gen = new Generator(5);
    const model = new Toy(gen);
    const x = randn([3, 6], { generator: gen });
    const base = model.v_proj.forward(x).dataSync().slice();
    const peft = new PeftModel(model, { r: 2, loraAlpha: 4, useDora: true, targetModules: ['v_proj'] }, 'default', { generator: gen });
    const v = model.v_proj as unknown as LoraLinear;
    v.forward(x).dataSync().forEach((y, i) => expect(y).toBeCloseTo(base[i]!, 5));
    randomizeB(peft, 'default', gen);
    const m = v.lora_magnitude_vector.get('default')!.weight;
    tidy(() => void m.assign(add(m, 0.3)));
    const w = add(v.weight, mul(matmul(v.lora_B.get('default')!.weight, v.lora_A.get('default')!.weight), 2));
    const norm = sqrt(sum(mul(w, w), 1, true));
    const wPrime = mul(w, reshape(m, [-1, 1])).div(norm);
    const expected = matmul(x, transpose(wPrime)).dataSync();
    v.forward(x).dataSync().forEach((y, i) => expect(y).toBeCloseTo(expected[i]!, 5));
  });

  it('merge and unmerge are exact within f32 rounding; mergeAndUnload gives plain layers with the same outputs', () => {
    for (const useDora of [false, true]) {
      const gen = new Generator(6);
      const model = new Toy(gen);
      const w0 = model.q_proj.weight.dataSync().slice();
      // DoRA adapts linear layers only (an embedding in the targets is refused with DoRA on).
      const peft = new PeftModel(model, { r: 3, loraAlpha: 6, useDora, targetModules: useDora ? ['q_proj', 'v_proj'] : ['q_proj', 'v_proj', 'embed_tokens'] }, 'default', { generator: gen });
      randomizeB(peft, 'default', gen);
      const adapted = model.forward(ids()).dataSync().slice();
      peft.merge();
      model.forward(ids()).dataSync().forEach((y, i) => expect(y).toBeCloseTo(adapted[i]!, 4));
      peft.unmerge();
      (model.q_proj as unknown as LoraLinear).weight.dataSync().forEach((v, i) => expect(v).toBeCloseTo(w0[i]!, 6));
      const plain = peft.mergeAndUnload();
      expect(plain.q_proj).toBeInstanceOf(Linear);
      expect(plain.q_proj).not.toBeInstanceOf(LoraLinear);
      expect(plain.embed_tokens).not.toBeInstanceOf(LoraEmbedding);
      plain.forward(ids()).dataSync().forEach((y, i) => expect(y).toBeCloseTo(adapted[i]!, 4));
      expect(plain.stateDict().has('q_proj.lora_A.default.weight')).toBe(false);
    }
  });

  it('named adapters: add, switch, disable, delete', () => {
    const gen = new Generator(7);
    const model = new Toy(gen);
    const base = model.forward(ids()).dataSync().slice();
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'] }, 'first', { generator: gen });
    randomizeB(peft, 'first', gen);
    peft.addAdapter('second', { r: 4, targetModules: ['q_proj', 'v_proj'] }, { generator: gen });
    randomizeB(peft, 'second', gen);
    const first = model.forward(ids()).dataSync().slice();
    peft.setAdapter('second');
    const second = model.forward(ids()).dataSync().slice();
    expect(Array.from(second)).not.toEqual(Array.from(first));
    expect(model.trainableParameters().every(([n]) => n.includes('.second.'))).toBe(true);
    peft.withAdaptersDisabled(() => model.forward(ids()).dataSync()).forEach((y, i) => expect(y).toBeCloseTo(base[i]!, 6));
    peft.deleteAdapter('second');
    expect(peft.activeAdapter).toBe('first');
    model.forward(ids()).dataSync().forEach((y, i) => expect(y).toBeCloseTo(first[i]!, 6));
    expect(model.namedParameters().some(([n]) => n.includes('second'))).toBe(false);
  });

  it('embedding LoRA uses PEFT names and init (A zero, B normal)', () => {
    const model = new Toy(new Generator(8));
    new PeftModel(model, { r: 2, targetModules: ['embed_tokens'] });
    const names = model.trainableParameters().map(([n]) => n);
    expect(names).toEqual(['embed_tokens.lora_embedding_A.default', 'embed_tokens.lora_embedding_B.default']);
    const e = model.embed_tokens as unknown as LoraEmbedding;
    expect(Array.from(e.lora_embedding_A.get('default')!.dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('bias modes and modules to save choose what trains', () => {
    const model = new Toy(new Generator(9));
    new PeftModel(model, { targetModules: ['q_proj', 'v_proj'], bias: 'lora_only', modulesToSave: ['lm_head'] });
    expect(model.trainableParameters().map(([n]) => n)).toEqual([
      'q_proj.bias',
      'q_proj.lora_A.default.weight',
      'q_proj.lora_B.default.weight',
      'v_proj.lora_A.default.weight',
      'v_proj.lora_B.default.weight',
      'lm_head.weight',
      'lm_head.bias',
    ]);
  });

  it('LoRA gradients agree with finite differences (f64)', () => {
    const gen = new Generator(10);
    const model = new Toy(gen, 'f64');
    const peft = new PeftModel(model, { r: 2, loraAlpha: 4, targetModules: ['q_proj'] }, 'default', { generator: gen });
    randomizeB(peft, 'default', gen);
    const q = model.q_proj as unknown as LoraLinear;
    const x = randn([3, 6], { generator: gen, dtype: 'f64' });
    const a = q.lora_A.get('default')!.weight;
    const b = q.lora_B.get('default')!.weight;
    // Directional check of the layer's own backward: ⟨grad, v⟩ against (f(p + εv) − f(p − εv)) / 2ε.
    const u = randn([3, 6], { generator: gen, dtype: 'f64' });
    const f = (): number => tidy(() => sum(mul(u, q.forward(x))).dataSync()[0]!);
    tidy(() => backward(sum(mul(u, q.forward(x)))));
    for (const p of [a, b]) {
      const v = randn(p.shape, { generator: gen, dtype: 'f64' });
      const p0 = p.clone();
      const eps = 1e-6;
      tidy(() => void p.assign(add(p0, mul(v, eps))));
      const plus = f();
      tidy(() => void p.assign(add(p0, mul(v, -eps))));
      const minus = f();
      p.assign(p0);
      const analytic = sum(mul(p.grad!, v)).dataSync()[0]!;
      expect(analytic).toBeCloseTo((plus - minus) / (2 * eps), 6);
    }
  });

  it('fine-tuning with LoRA lowers the loss and a step leaks nothing', () => {
    const gen = new Generator(11);
    const model = new Toy(gen);
    const peft = new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }, 'default', { generator: gen });
    const opt = new AdamW(model.trainableParameters(), { lr: 0.05 });
    const input = randint(0, 11, [4, 6], { generator: gen });
    const target = randint(0, 11, [4, 6], { generator: gen });
    const step = (): number =>
      tidy(() => {
        opt.zeroGrad();
        const loss = crossEntropy(model.forward(input), target);
        backward(loss);
        opt.step();
        return loss.dataSync()[0]!;
      });
    const first = step();
    const count = memory().numUndisposed;
    let last = first;
    for (let i = 0; i < 60; i++) last = step();
    opt.zeroGrad();
    expect(memory().numUndisposed).toBeLessThanOrEqual(count);
    expect(last).toBeLessThan(first * 0.8);
    void peft;
  });
});

describe('adapter_config.json', () => {
  it('writes PEFT field names and reads them back', () => {
    const cfg = loraConfig({ r: 16, loraAlpha: 32, loraDropout: 0.05, targetModules: ['v_proj', 'q_proj'], useRslora: true });
    const json = toPeftJson(cfg);
    expect(json).toMatchObject({ peft_type: 'LORA', r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj'], use_rslora: true, use_dora: false, bias: 'none', task_type: 'CAUSAL_LM' });
    const back = fromPeftJson(json);
    expect(back.r).toBe(16);
    expect(back.targetModules).toEqual(['q_proj', 'v_proj']);
    expect(() => fromPeftJson({ peft_type: 'PREFIX_TUNING' })).toThrow(/only "LORA" adapters/);
  });
});

/** Three blocks under `layers.<i>`, as a decoder stack names them. */
class Block extends Module {
  readonly q_proj: Linear;
  readonly v_proj: Linear;
  constructor(gen: Generator) {
    super();
    this.q_proj = this.child('q_proj', new Linear(4, 4, { generator: gen }));
    this.v_proj = this.child('v_proj', new Linear(4, 4, { generator: gen }));
  }
}
class Layers extends Module {
  constructor(gen: Generator, n: number) {
    super();
    for (let i = 0; i < n; i++) this.child(i, new Block(gen));
  }
}
class Decoder extends Module {
  constructor(gen: Generator) {
    super();
    this.child('layers', new Layers(gen, 3));
  }
}
/** `model.layers.<i>.{q,v}_proj`: PEFT's layer-index rule wants a segment before the list name. */
class Stack extends Module {
  constructor(gen: Generator) {
    super();
    this.child('model', new Decoder(gen));
  }
}

const adapted = (peft: PeftModel): string[] => peft.loraLayers().map(([p]) => p);

describe('which layers are adapted', () => {
  it('a second all-linear adapter does not wrap the first adapter\'s lora_A/lora_B (review item 3)', async () => {
    const model = new Toy(new Generator(12));
    const peft = new PeftModel(model, { r: 2, targetModules: 'all-linear' });
    peft.addAdapter('second', { r: 2, targetModules: 'all-linear' });
    expect(adapted(peft)).toEqual(['q_proj', 'v_proj']);
    const keys = [...readSafetensors((await adapterFiles(peft, 'second')).weights).tensors.keys()].sort();
    expect(keys).toEqual(['base_model.model.q_proj.lora_A.weight', 'base_model.model.q_proj.lora_B.weight', 'base_model.model.v_proj.lora_A.weight', 'base_model.model.v_proj.lora_B.weight']);
  });

  it('adapter_config.json: layers_to_transform, layers_pattern and exclude_modules choose layers as PEFT does (review item 7)', () => {
    const base = { peft_type: 'LORA', r: 2, lora_alpha: 2, target_modules: ['q_proj', 'v_proj'] };
    const cases: [Record<string, unknown>, string[]][] = [
      [{ layers_to_transform: [0, 2], layers_pattern: 'layers' }, ['model.layers.0.q_proj', 'model.layers.0.v_proj', 'model.layers.2.q_proj', 'model.layers.2.v_proj']],
      [{ layers_to_transform: 1 }, ['model.layers.1.q_proj', 'model.layers.1.v_proj']],
      [{ layers_to_transform: [1], layers_pattern: ['h'] }, null as unknown as string[]], // no `h.<i>` segment: nothing matches
      [{ exclude_modules: ['model.layers.2.v_proj', 'q_proj'] }, ['model.layers.0.v_proj', 'model.layers.1.v_proj']],
      [{ exclude_modules: '.*\\.[01]\\..*' }, ['model.layers.2.q_proj', 'model.layers.2.v_proj']],
      [{ target_modules: 'model\\.layers\\.[12]\\.q_proj', layers_to_transform: [1] }, ['model.layers.1.q_proj', 'model.layers.2.q_proj']], // a regex ignores layer indices, as in PEFT
    ];
    for (const [fields, want] of cases) {
      const cfg = fromPeftJson({ ...base, ...fields });
      if (want === null) {
        expect(() => new PeftModel(new Stack(new Generator(1)), cfg)).toThrow(/matched no Linear or Embedding/);
        continue;
      }
      expect(adapted(new PeftModel(new Stack(new Generator(1)), cfg))).toEqual(want);
      expect(adapted(new PeftModel(new Stack(new Generator(1)), fromPeftJson(toPeftJson(cfg))))).toEqual(want);
    }
  });

  it('adapter_config.json fields Tessera does not implement are refused by name (review item 7)', () => {
    const base = { peft_type: 'LORA', r: 2, target_modules: ['q_proj'] };
    expect(() => fromPeftJson({ ...base, lora_bias: true })).toThrow(/adapter_config.json: lora_bias is true; Tessera does not implement a trainable bias in lora_B/);
    expect(() => fromPeftJson({ ...base, init_lora_weights: 'pissa' })).toThrow(/init_lora_weights is "pissa"/);
    expect(() => fromPeftJson({ ...base, layer_replication: [[0, 2]] })).toThrow(/layer_replication/);
    expect(() => fromPeftJson({ ...base, trainable_token_indices: [1, 2] })).toThrow(/trainable_token_indices/);
    expect(fromPeftJson({ ...base, lora_bias: false, init_lora_weights: 'gaussian', layer_replication: null }).initLoraWeights).toBe('gaussian');
    expect(() => loraConfig({ targetModules: /q_proj/i })).toThrow(/has flags, which adapter_config.json cannot store/);
  });

  it('DoRA with an embedding among the targets is refused (review item 8)', () => {
    const model = new Toy(new Generator(13));
    expect(() => new PeftModel(model, { useDora: true, targetModules: ['q_proj', 'embed_tokens'] })).toThrow(/useDora is set and target_modules matches the embedding "embed_tokens"/);
    expect(model.q_proj).not.toBeInstanceOf(LoraLinear); // refused before any layer changed
  });

  it('LoraEmbedding: disabled while merged throws as LoraLinear does (review item 9)', () => {
    const model = new Toy(new Generator(14));
    const peft = new PeftModel(model, { targetModules: ['embed_tokens', 'q_proj'] });
    peft.merge();
    expect(() => peft.withAdaptersDisabled(() => (model.embed_tokens as unknown as LoraEmbedding).forward(ids()))).toThrow(/LoraEmbedding: adapters are merged into the base weight; unmerge before disabling them/);
    expect(() => peft.withAdaptersDisabled(() => model.q_proj.forward(randn([1, 6])))).toThrow(/LoraLinear: adapters are merged/);
  });
});

/** A model whose output head is tied to its token embedding, as tie_word_embeddings models read it: `embed_tokens.weight`. */
class TiedToy extends Module {
  readonly config = { tieWordEmbeddings: true, vocabSize: 11 };
  readonly embed_tokens: Embedding;
  readonly q_proj: Linear;
  constructor(gen: Generator) {
    super();
    this.embed_tokens = this.child('embed_tokens', new Embedding(11, 6, { generator: gen }));
    this.q_proj = this.child('q_proj', new Linear(6, 6, { generator: gen }));
  }
  forward(ids: Tensor): Tensor {
    return matmul(this.q_proj.forward(this.embed_tokens.forward(ids)), transpose(this.embed_tokens.weight));
  }
}

describe('modules_to_save (review item 4)', () => {
  it('a tied embedding trains a private copy: the head keeps the original table, as in PEFT', async () => {
    const model = new TiedToy(new Generator(15));
    const base = model.forward(ids()).dataSync().slice();
    const w0 = clone(model.embed_tokens.weight);
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'], modulesToSave: ['embed_tokens'] });
    expect(model.embed_tokens).toBeInstanceOf(TiedEmbeddingCopy);
    expect(model.trainableParameters().map(([n]) => n)).toEqual(['embed_tokens.weight', 'q_proj.lora_A.default.weight', 'q_proj.lora_B.default.weight']);
    const trained = model.trainableParameters()[0]![1];
    tidy(() => void trained.assign(add(trained, mul(randn(trained.shape, { generator: new Generator(16) }), 0.5))));
    const q = model.q_proj as unknown as LoraLinear;
    const expected = tidy(() => matmul(q.forward(embedding(ids(), trained)), transpose(w0)).dataSync().slice());
    model.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const saved = readSafetensors((await adapterFiles(peft)).weights).tensors.get('base_model.model.embed_tokens.weight')!;
    expect(Array.from(new Float32Array(new Uint8Array(saved.data).buffer))).toEqual(Array.from(trained.dataSync()));
    // Disabled adapters run the original embedding; deleting the adapter puts the plain module back.
    peft.withAdaptersDisabled(() => model.forward(ids()).dataSync()).forEach((v, i) => expect(v).toBeCloseTo(base[i]!, 5));
    model.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    peft.addAdapter('other', { r: 2, targetModules: ['q_proj'] });
    peft.deleteAdapter('default');
    expect(model.embed_tokens).toBeInstanceOf(Embedding);
    expect(model.embed_tokens).not.toBeInstanceOf(TiedEmbeddingCopy);
    model.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(base[i]!, 5));
  });

  it('ensureWeightTying keeps a tied embedding tied: the head reads the trained table (PEFT ensure_weight_tying)', async () => {
    const model = new TiedToy(new Generator(15));
    const base = model.forward(ids()).dataSync().slice();
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'], modulesToSave: ['embed_tokens'], ensureWeightTying: true });
    expect(model.embed_tokens).not.toBeInstanceOf(TiedEmbeddingCopy);
    const trained = model.trainableParameters()[0]![1];
    expect(trained).toBe(model.embed_tokens.weight);
    tidy(() => void trained.assign(add(trained, mul(randn(trained.shape, { generator: new Generator(16) }), 0.5))));
    const q = model.q_proj as unknown as LoraLinear;
    const expected = tidy(() => matmul(q.forward(embedding(ids(), trained)), transpose(trained)).dataSync().slice());
    model.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const files = await adapterFiles(peft);
    expect(JSON.parse(files.config).ensure_weight_tying).toBe(true);
    expect(fromPeftJson(JSON.parse(files.config)).ensureWeightTying).toBe(true);
    // Disabled adapters put the original table back for both the embedding and the head.
    peft.withAdaptersDisabled(() => model.forward(ids()).dataSync()).forEach((v, i) => expect(v).toBeCloseTo(base[i]!, 5));
  });

  it('withAdaptersDisabled and another active adapter run the original module, as PEFT does', () => {
    const model = new Toy(new Generator(17));
    const base = model.forward(ids()).dataSync().slice();
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] });
    const head = model.lm_head.weight;
    tidy(() => void head.assign(add(head, 0.3)));
    const trained = model.forward(ids()).dataSync().slice();
    expect(Array.from(trained)).not.toEqual(Array.from(base));
    peft.withAdaptersDisabled(() => model.forward(ids()).dataSync()).forEach((v, i) => expect(v).toBeCloseTo(base[i]!, 6));
    model.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(trained[i]!, 6));
    peft.addAdapter('plain', { r: 2, targetModules: ['v_proj'] });
    peft.setAdapter('plain'); // its B is zero and it saves no lm_head: the base model's output
    model.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(base[i]!, 6));
    peft.setAdapter('default');
    model.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(trained[i]!, 6));
  });
});

describe('a tied embedding in modules_to_save with a pad token', () => {
  it('the trained copy gets no gradient in the pad row (torch Embedding padding_idx), the other rows do', () => {
    const config = llamaConfig({ vocabSize: 12, hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, tieWordEmbeddings: true, padTokenId: 0, initializerRange: 0.2 });
    const model = new LlamaForCausalLM(config, { generator: new Generator(36) });
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'], modulesToSave: ['embed_tokens'] });
    expect(model.model.embed_tokens).toBeInstanceOf(TiedEmbeddingCopy);
    const [[name, table]] = model.trainableParameters().filter(([p]) => p.endsWith('embed_tokens.weight'));
    expect(name).toBe('model.embed_tokens.weight');
    const ids = tensor([[0, 0, 3, 4, 5]], { dtype: 'i32' });
    tidy(() => backward(model.forward(ids, { labels: ids }).loss!));
    const g = table!.grad!.dataSync();
    expect(Array.from(g.slice(0, 8)).every((v) => v === 0)).toBe(true);
    expect(Array.from(g.slice(3 * 8, 4 * 8)).some((v) => v !== 0)).toBe(true);
    peft.dispose();
  });
});

describe('modules_to_save per adapter (as PEFT\'s ModulesToSaveWrapper, one copy per adapter)', () => {
  const head = (m: Toy): number[] => Array.from(m.lm_head.weight.dataSync()).slice(0, 4);
  const savedHead = async (peft: PeftModel, name: string): Promise<number[]> => {
    const t = readSafetensors((await adapterFiles(peft, name)).weights).tensors.get('base_model.model.lm_head.weight')!;
    return Array.from(new Float32Array(new Uint8Array(t.data).buffer)).slice(0, 4);
  };
  const close = (a: number[], b: number[]): void => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));

  it('two adapters saving the same module each train, run and save their own values', async () => {
    const model = new Toy(new Generator(31));
    const base = head(model);
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] }, 'a');
    tidy(() => void model.lm_head.weight.assign(add(model.lm_head.weight, 1)));
    const a = head(model);
    peft.addAdapter('b', { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] });
    close(head(model), a); // adding does not activate
    peft.setAdapter('b');
    close(head(model), base); // b starts from the original values
    expect(model.lm_head.weight.requiresGrad).toBe(true);
    tidy(() => void model.lm_head.weight.assign(add(model.lm_head.weight, 2)));
    const b = head(model);
    close(await savedHead(peft, 'a'), a);
    close(await savedHead(peft, 'b'), b);
    peft.setAdapter('a');
    close(head(model), a);
    close(await savedHead(peft, 'b'), b);
    peft.withAdaptersDisabled(() => close(head(model), base));
    peft.disableAdapterLayers();
    peft.setAdapter('b'); // still disabled: the originals
    close(head(model), base);
    peft.enableAdapterLayers();
    close(head(model), b);
    peft.deleteAdapter('b'); // the active one: a takes over with its values
    expect(peft.activeAdapter).toBe('a');
    close(head(model), a);
    peft.deleteAdapter('a');
    close(head(model), base);
  });

  it('loading an adapter that is not active fills its own values and leaves the active adapter\'s', async () => {
    const src = new Toy(new Generator(32));
    const sp = new PeftModel(src, { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] });
    tidy(() => void src.lm_head.weight.assign(add(src.lm_head.weight, 1)));
    const trained = head(src);
    const files = await adapterFiles(sp);
    const model = new Toy(new Generator(32));
    const base = head(model);
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] }, 'first');
    tidy(() => void model.lm_head.weight.assign(add(model.lm_head.weight, 5)));
    const first = head(model);
    loadAdapterFiles(peft, files, 'second');
    expect(peft.activeAdapter).toBe('first');
    close(head(model), first);
    close(await savedHead(peft, 'second'), trained);
    peft.setAdapter('second');
    close(head(model), trained);
    // A model whose active adapter saves nothing: the originals stay in place.
    const plain = new PeftModel(new Toy(new Generator(32)), { r: 2, targetModules: ['v_proj'] }, 'first');
    loadAdapterFiles(plain, files, 'second');
    close(head(plain.model), base);
    plain.setAdapter('second');
    close(head(plain.model), trained);
  });

  it('adapterFiles of an adapter that is not active saves its trained values, not the originals', async () => {
    const model = new Toy(new Generator(33));
    const peft = new PeftModel(model, { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] }, 'a');
    tidy(() => void model.lm_head.weight.assign(add(model.lm_head.weight, 1)));
    const trained = head(model);
    peft.addAdapter('b', { r: 2, targetModules: ['q_proj'] });
    peft.setAdapter('b');
    close(await savedHead(peft, 'a'), trained);
  });

  it('dispose frees the model and the kept original and set-aside values', () => {
    const before = memory().numUndisposed;
    const peft = new PeftModel(new Toy(new Generator(34)), { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] }, 'a');
    peft.addAdapter('b', { r: 2, targetModules: ['q_proj'], modulesToSave: ['lm_head'] });
    peft.dispose();
    expect(memory().numUndisposed).toBe(before);
  });
});

describe('regex target_modules / exclude_modules', () => {
  it('an adapter saved with a regex loads back into an adapter made from the same config', async () => {
    const cfg = { r: 2, targetModules: /(q|v)_proj/, excludeModules: /v_proj/ };
    const files = await adapterFiles(new PeftModel(new Toy(new Generator(35)), cfg));
    expect(JSON.parse(files.config).target_modules).toBe('(q|v)_proj');
    expect(fromPeftJson(JSON.parse(files.config)).targetModules).toEqual(/(q|v)_proj/);
    const dst = new PeftModel(new Toy(new Generator(35)), cfg);
    expect(() => loadAdapterFiles(dst, files)).not.toThrow();
    expect(dst.loraLayers().map(([p]) => p)).toEqual(['q_proj']);
  });
});

describe('DoRA gradients', () => {
  it('agree with finite differences of the output with the weight norm held constant (the norm is detached, as in PEFT)', () => {
    const gen = new Generator(18);
    const model = new Toy(gen, 'f64');
    const peft = new PeftModel(model, { r: 2, loraAlpha: 4, useDora: true, targetModules: ['q_proj'] }, 'default', { generator: gen });
    randomizeB(peft, 'default', gen);
    const q = model.q_proj as unknown as LoraLinear;
    const a = q.lora_A.get('default')!.weight;
    const b = q.lora_B.get('default')!.weight;
    const m = q.lora_magnitude_vector.get('default')!.weight;
    tidy(() => void m.assign(add(m, mul(randn(m.shape, { generator: gen, dtype: 'f64' }), 0.2))));
    const s = q.settings.get('default')!.scaling;
    const x = randn([3, 6], { generator: gen, dtype: 'f64' });
    const u = randn([3, 6], { generator: gen, dtype: 'f64' });
    const w = q.weight;
    // ‖W + sBA‖ per output row at the current point, then frozen.
    const n0 = tidy(() => clone(sqrt(sum(mul(add(w, mul(matmul(b, a), s)), add(w, mul(matmul(b, a), s))), 1))));
    // PEFT's DoRA output with the norm a constant: base(x) + (m/n0 - 1)·xWᵀ + (m/n0)·s·xAᵀBᵀ.
    const frozen = (): number =>
      tidy(() => {
        const scale = div(m, n0);
        const y = add(add(q.base.forward(x), mul(matmul(x, transpose(w)), sub(scale, 1))), mul(mul(matmul(matmul(x, transpose(a)), transpose(b)), s), scale));
        return sum(mul(u, y)).dataSync()[0]!;
      });
    const live = (): number => tidy(() => sum(mul(u, q.forward(x))).dataSync()[0]!);
    expect(live()).toBeCloseTo(frozen(), 10);
    tidy(() => backward(sum(mul(u, q.forward(x)))));
    let liveDiffers = 0;
    for (const p of [a, b, m]) {
      const v = randn(p.shape, { generator: gen, dtype: 'f64' });
      const p0 = p.clone();
      const eps = 1e-6;
      const fd = (f: () => number): number => {
        tidy(() => void p.assign(add(p0, mul(v, eps))));
        const plus = f();
        tidy(() => void p.assign(add(p0, mul(v, -eps))));
        const minus = f();
        p.assign(clone(p0));
        return (plus - minus) / (2 * eps);
      };
      const analytic = sum(mul(p.grad!, v)).dataSync()[0]!;
      expect(analytic).toBeCloseTo(fd(frozen), 6);
      // The full derivative (the norm moving with A and B) is a different number: the norm is detached.
      if (p !== m) liveDiffers += Math.abs(analytic - fd(live)) > 1e-4 ? 1 : 0;
    }
    expect(liveDiffers).toBe(2);
  });
});
