import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, add, mul, randn, registerBackend, tensor, tidy, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { readSafetensors } from '@tessera/safetensors';
import { Embedding, Linear, Module } from '@tessera/nn';
import { LoraLinear, PeftModel, adapterFiles, loadAdapterFiles } from '../src/index.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

/** A model shaped like the top of a Llama checkpoint: model.layers.0.self_attn.{q,v}_proj, model.embed_tokens, lm_head. */
class Tiny extends Module {
  readonly model: Inner;
  readonly lm_head: Linear;
  constructor(seed: number) {
    super();
    const gen = new Generator(seed);
    this.model = this.child('model', new Inner(gen));
    this.lm_head = this.child('lm_head', new Linear(6, 9, { generator: gen, bias: false }));
  }
  forward(ids: Tensor): Tensor {
    const h = this.model.embed_tokens.forward(ids);
    const attn = this.model.layers.self_attn;
    return this.lm_head.forward(add(h, attn.v_proj.forward(attn.q_proj.forward(h))));
  }
}
class Inner extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: Layer0;
  constructor(gen: Generator) {
    super();
    this.embed_tokens = this.child('embed_tokens', new Embedding(9, 6, { generator: gen }));
    const list = this.child('layers', new (class extends Module {})());
    this.layers = (list as unknown as { child(n: string, m: Module): Layer0 }).child.call(list, '0', new Layer0(gen)) as Layer0;
  }
}
class Layer0 extends Module {
  readonly self_attn: Attn;
  constructor(gen: Generator) {
    super();
    this.self_attn = this.child('self_attn', new Attn(gen));
  }
}
class Attn extends Module {
  readonly q_proj: Linear;
  readonly v_proj: Linear;
  constructor(gen: Generator) {
    super();
    this.q_proj = this.child('q_proj', new Linear(6, 6, { generator: gen, bias: true }));
    this.v_proj = this.child('v_proj', new Linear(6, 6, { generator: gen, bias: false }));
  }
}

const ids = (): Tensor => tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'i32' });

function perturb(model: Module, seed: number): void {
  const gen = new Generator(seed);
  for (const [, p] of model.trainableParameters()) tidy(() => void p.assign(add(p, mul(randn(p.shape, { generator: gen }), 0.1))));
}

describe('PEFT adapter files', () => {
  it('uses PEFT key names and restores the same outputs in a fresh model', async () => {
    for (const variant of [{ useDora: false }, { useDora: true }, { useDora: false, targetModules: ['q_proj', 'v_proj', 'embed_tokens'], bias: 'lora_only' as const }]) {
      const a = new Tiny(1);
      const peftA = new PeftModel(a, { r: 2, loraAlpha: 4, targetModules: ['q_proj', 'v_proj'], ...variant });
      perturb(a, 2);
      const out = a.forward(ids()).dataSync().slice();
      const files = await adapterFiles(peftA);
      const keys = [...readSafetensors(files.weights).tensors.keys()].sort();
      expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
      expect(keys).toContain('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight');
      if (variant.useDora) expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector');
      if ('bias' in variant) {
        expect(keys).toContain('base_model.model.model.embed_tokens.lora_embedding_A');
        expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.bias');
      }
      expect(JSON.parse(files.config)).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 4, use_dora: variant.useDora });

      const b = new Tiny(1); // same base weights, fresh adapter
      const peftB = new PeftModel(b, JSON.parse(files.config).target_modules ? { targetModules: ['q_proj'] } : {}, 'scratch');
      loadAdapterFiles(peftB, files, 'default');
      peftB.setAdapter('default');
      b.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(out[i]!, 5));
      expect((b.model.layers.self_attn.q_proj as unknown as LoraLinear).settings.has('default')).toBe(true);
    }
  });

  it('names what does not fit', async () => {
    const a = new Tiny(3);
    const peft = new PeftModel(a, { r: 2, targetModules: ['q_proj', 'v_proj'] });
    const files = await adapterFiles(peft);
    const other = new Tiny(3);
    const peftOther = new PeftModel(other, { r: 4, targetModules: ['q_proj', 'v_proj'] });
    expect(() => loadAdapterFiles(peftOther, files, 'default')).toThrow(/has shape \[2,6\] but model\.layers\.0\.self_attn\.q_proj\.lora_A\.default\.weight is \[4,6\]/);
  });
});

describe('adapter folders (Node)', () => {
  it('saveAdapter and loadAdapter round-trip through a folder', async () => {
    const { mkdtemp, readdir } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { saveAdapter, loadAdapter } = await import('../src/node.js');
    const dir = await mkdtemp(join(tmpdir(), 'tessera-adapter-'));
    const a = new Tiny(5);
    const peft = new PeftModel(a, { r: 2, targetModules: ['q_proj', 'v_proj'] });
    perturb(a, 6);
    const out = a.forward(ids()).dataSync().slice();
    await saveAdapter(peft, dir);
    expect((await readdir(dir)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const b = new Tiny(5);
    const peftB = new PeftModel(b, { r: 2, targetModules: ['q_proj', 'v_proj'] }, 'other');
    await loadAdapter(peftB, dir, 'mine');
    peftB.setAdapter('mine');
    b.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(out[i]!, 5));
    await expect(loadAdapter(peftB, join(dir, 'missing'))).rejects.toThrow(/cannot read .*adapter_config.json \(ENOENT\)/);
  });
});
