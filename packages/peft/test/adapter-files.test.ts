import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, add, mul, randn, registerBackend, tensor, tidy, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { readSafetensors, serializeSafetensors, type Dtype } from '@tessera/safetensors';
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
        // PEFT >= 0.7 keeps a LoRA layer's own tensors under base_layer (tuners_utils: BaseTunerLayer.base_layer).
        expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias');
        expect(keys).not.toContain('base_model.model.model.layers.0.self_attn.q_proj.bias');
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
    const r2 = await adapterFiles(new PeftModel(a, { r: 2, targetModules: ['q_proj', 'v_proj'] }));
    const r4 = await adapterFiles(new PeftModel(new Tiny(3), { r: 4, targetModules: ['q_proj', 'v_proj'] }));
    const other = new PeftModel(new Tiny(3), { r: 4, targetModules: ['q_proj', 'v_proj'] });
    expect(() => loadAdapterFiles(other, { config: r2.config, weights: r4.weights }, 'mixed')).toThrow(/has shape \[4,6\] but model\.layers\.0\.self_attn\.q_proj\.lora_A\.mixed\.weight is \[2,6\]/);
  });
});

/** Everything a load may change: adapters, the active one, module types, parameter names, values and trainability. */
function snapshot(peft: PeftModel) {
  return {
    configs: [...peft.configs.keys()],
    active: peft.activeAdapter,
    modules: peft.model.namedModules().map(([p, m]) => `${p}:${m.constructor.name}`),
    params: peft.model.namedParameters().map(([p, t]) => [p, t.requiresGrad, Array.from(t.dataSync())]),
  };
}

/** An adapter file with its tensors changed by `edit` (key -> [shape, values]). */
function rewrite(weights: Uint8Array, edit: (tensors: Map<string, { dtype: Dtype; shape: number[]; data: Float32Array }>) => void): Uint8Array {
  const tensors = new Map<string, { dtype: Dtype; shape: number[]; data: Float32Array }>();
  for (const [k, t] of readSafetensors(weights).tensors) tensors.set(k, { dtype: 'F32', shape: [...t.shape], data: new Float32Array(new Uint8Array(t.data).buffer) });
  edit(tensors);
  return serializeSafetensors(tensors, { format: 'pt' });
}

describe('loading into a model that has adapters (review item 1)', () => {
  it('an existing adapter name with another lora_alpha is refused, naming the field, and nothing changes', async () => {
    const a = new Tiny(11);
    const source = new PeftModel(a, { r: 2, loraAlpha: 16, targetModules: ['q_proj', 'v_proj'] });
    perturb(a, 12);
    const files = await adapterFiles(source);
    // The natural path: new PeftModel(...) makes 'default', then the file is loaded into 'default'.
    const peft = new PeftModel(new Tiny(11), { r: 2, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] });
    const before = snapshot(peft);
    expect(() => loadAdapterFiles(peft, files)).toThrow(/adapter "default" exists with lora_alpha 8, but adapter_config.json has lora_alpha 16/);
    expect(snapshot(peft)).toEqual(before);
    const same = new PeftModel(new Tiny(11), { r: 2, loraAlpha: 16, targetModules: ['v_proj', 'q_proj'] });
    loadAdapterFiles(same, files);
    (same.model as Tiny).forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(a.forward(ids()).dataSync()[i]!, 5));
  });

  it('a failed load leaves the model exactly as it was', async () => {
    const src = new PeftModel(new Tiny(13), { r: 2, targetModules: ['q_proj', 'v_proj'] });
    perturb(src.model, 14);
    const files = await adapterFiles(src);
    const lastKey = [...readSafetensors(files.weights).tensors.keys()].sort().pop()!;
    const badShape = rewrite(files.weights, (t) => t.set(lastKey, { dtype: 'F32', shape: [3], data: new Float32Array(3) }));
    const extraKey = rewrite(files.weights, (t) => t.set('base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight', { dtype: 'F32', shape: [2, 6], data: new Float32Array(12) }));

    // An existing adapter: the shape check of the last tensor fails after the others passed theirs.
    const existing = new PeftModel(new Tiny(13), { r: 2, targetModules: ['q_proj', 'v_proj'] });
    const before = snapshot(existing);
    expect(() => loadAdapterFiles(existing, { config: files.config, weights: badShape })).toThrow(/has shape \[3\]/);
    expect(snapshot(existing)).toEqual(before);

    // A new name on a model whose v_proj no adapter wraps yet: the added adapter and the v_proj wrapper go again.
    const fresh = new PeftModel(new Tiny(13), { r: 2, targetModules: ['q_proj'] });
    const freshBefore = snapshot(fresh);
    expect(() => loadAdapterFiles(fresh, { config: files.config, weights: extraKey }, 'other')).toThrow(/1 tensors in adapter_model.safetensors fit no parameter/);
    expect(snapshot(fresh)).toEqual(freshBefore);
    expect(() => loadAdapterFiles(fresh, { config: files.config, weights: badShape }, 'other')).toThrow(/has shape \[3\]/);
    expect(snapshot(fresh)).toEqual(freshBefore);
    expect(() => loadAdapterFiles(fresh, { config: '{"r": 2,', weights: files.weights }, 'other')).toThrow(/adapter_config.json is not valid JSON/);
    expect(snapshot(fresh)).toEqual(freshBefore);
  });
});

describe('bias keys (review item 2)', () => {
  it("a LoRA layer's bias is saved as <layer>.base_layer.bias (PEFT >= 0.7) and the pre-0.7 <layer>.bias loads too", async () => {
    const a = new Tiny(15);
    const peft = new PeftModel(a, { r: 2, targetModules: ['q_proj', 'v_proj'], bias: 'all' });
    perturb(a, 16);
    const out = a.forward(ids()).dataSync().slice();
    const files = await adapterFiles(peft);
    const keys = [...readSafetensors(files.weights).tensors.keys()];
    expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias');
    expect(keys.filter((k) => k.endsWith('.bias'))).toEqual(['base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias']);
    const legacy = rewrite(files.weights, (t) => {
      const k = 'base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias';
      t.set('base_model.model.model.layers.0.self_attn.q_proj.bias', t.get(k)!);
      t.delete(k);
    });
    for (const weights of [files.weights, legacy]) {
      const b = new Tiny(15);
      loadAdapterFiles(new PeftModel(b, { r: 2, targetModules: ['q_proj', 'v_proj'], bias: 'all' }), { config: files.config, weights });
      b.forward(ids()).dataSync().forEach((v, i) => expect(v).toBeCloseTo(out[i]!, 5));
    }
  });

  it("lora_only: a file without the layers' biases (as PEFT writes it) loads and keeps the base biases", async () => {
    const a = new Tiny(17);
    const files = await adapterFiles(new PeftModel(a, { r: 2, targetModules: ['q_proj', 'v_proj'], bias: 'lora_only' }));
    const noBias = rewrite(files.weights, (t) => {
      for (const k of [...t.keys()]) if (k.endsWith('.bias')) t.delete(k);
    });
    const b = new Tiny(17);
    const bias0 = b.model.layers.self_attn.q_proj.bias!.dataSync().slice();
    const peft = new PeftModel(b, { r: 2, targetModules: ['q_proj'] }, 'other');
    loadAdapterFiles(peft, { config: files.config, weights: noBias });
    expect(peft.configs.has('default')).toBe(true);
    expect(Array.from((b.model.layers.self_attn.q_proj as unknown as LoraLinear).bias!.dataSync())).toEqual(Array.from(bias0));
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

  it('a bad adapter_config.json names the file', async () => {
    const { mkdtemp, writeFile, copyFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { saveAdapter, loadAdapter } = await import('../src/node.js');
    const dir = await mkdtemp(join(tmpdir(), 'tessera-adapter-'));
    const peft = new PeftModel(new Tiny(7), { r: 2, targetModules: ['q_proj', 'v_proj'] });
    await saveAdapter(peft, dir);
    const bad = await mkdtemp(join(tmpdir(), 'tessera-adapter-bad-'));
    await copyFile(join(dir, 'adapter_model.safetensors'), join(bad, 'adapter_model.safetensors'));
    await writeFile(join(bad, 'adapter_config.json'), '{"r": 2, "lora_alpha": }');
    const target = new PeftModel(new Tiny(7), { r: 2, targetModules: ['q_proj'] }, 'other');
    await expect(loadAdapter(target, bad, 'x')).rejects.toThrow(new RegExp(`${join(bad, 'adapter_config.json').replace(/[.*+?^\${}()|[\]\\]/g, '\\$&')} is not valid JSON`));
    expect([...target.configs.keys()]).toEqual(['other']);
  });

  it('saveAdapter writes the config first and the weights last', async () => {
    const { mkdtemp, mkdir, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { saveAdapter } = await import('../src/node.js');
    const dir = await mkdtemp(join(tmpdir(), 'tessera-adapter-order-'));
    // A folder where the weights file goes makes the weights write fail: the config is already new.
    await mkdir(join(dir, 'adapter_model.safetensors', 'blocker'), { recursive: true });
    const peft = new PeftModel(new Tiny(8), { r: 2, loraAlpha: 5, targetModules: ['q_proj', 'v_proj'] });
    await expect(saveAdapter(peft, dir)).rejects.toThrow();
    expect(JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')).lora_alpha).toBe(5);
  });
});
