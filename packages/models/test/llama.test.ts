// LlamaForCausalLM on its own: Hugging Face names per family, HF-style init, padding, cache,
// checkpointing, memory, errors.
import { describe, expect, it } from 'vitest';
import { Generator, full, memory, registerBackend, tensor, tidy } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { backward, noGrad } from '@tessera/autograd';
import { KVCache, Linear } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import { LlamaForCausalLM, llamaConfig, llamaConfigToJSON, parseLlamaConfig, type LlamaConfig } from '../src/index.js';

registerBackend(createCpuBackend());

const small = { vocabSize: 50, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2 };
function make(fields: Partial<LlamaConfig> = {}, seed = 1): LlamaForCausalLM {
  return new LlamaForCausalLM(llamaConfig({ ...small, initializerRange: 0.2, ...fields }), { generator: new Generator(seed) });
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThan(tol);
}

describe('LlamaForCausalLM', () => {
  it("uses Hugging Face's parameter names for each family", () => {
    const layer0 = (m: LlamaForCausalLM): string[] => m.namedParameters().map(([n]) => n).filter((n) => n.startsWith('model.layers.0.'));
    expect(layer0(make())).toEqual([
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.0.self_attn.v_proj.weight',
      'model.layers.0.self_attn.o_proj.weight',
      'model.layers.0.mlp.gate_proj.weight',
      'model.layers.0.mlp.up_proj.weight',
      'model.layers.0.mlp.down_proj.weight',
      'model.layers.0.input_layernorm.weight',
      'model.layers.0.post_attention_layernorm.weight',
    ]);
    const qwen2 = make({ modelType: 'qwen2', qkvBias: true, tieWordEmbeddings: true });
    expect(layer0(qwen2).filter((n) => n.endsWith('bias'))).toEqual([
      'model.layers.0.self_attn.q_proj.bias',
      'model.layers.0.self_attn.k_proj.bias',
      'model.layers.0.self_attn.v_proj.bias',
    ]);
    expect([...qwen2.stateDict().keys()]).not.toContain('lm_head.weight');
    expect(qwen2.lm_head).toBeNull();
    const qwen3 = make({ modelType: 'qwen3', qkNorm: true, headDim: 8 });
    expect(layer0(qwen3)).toContain('model.layers.0.self_attn.q_norm.weight');
    expect(qwen3.stateDict().get('model.layers.0.self_attn.q_proj.weight')!.shape).toEqual([32, 16]);
    const m = make();
    expect(m.namedParameters().map(([n]) => n).slice(-3)).toEqual(['model.layers.1.post_attention_layernorm.weight', 'model.norm.weight', 'lm_head.weight']);
  });

  it('initialises like transformers: N(0, initializer_range), unit norms, zero biases and pad row; seeded', () => {
    const m = make({ initializerRange: 0.05, padTokenId: 3, qkvBias: true });
    const w = Array.from(m.model.layers.items[0]!.mlp.gate_proj.weight.dataSync());
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(std).toBeGreaterThan(0.045);
    expect(std).toBeLessThan(0.055);
    expect(Array.from(m.model.norm.weight.dataSync()).every((x) => x === 1)).toBe(true);
    expect(Array.from(m.model.layers.items[0]!.self_attn.q_proj.bias!.dataSync()).every((x) => x === 0)).toBe(true);
    const emb = m.model.embed_tokens.weight.dataSync();
    expect(Array.from(emb.subarray(3 * 16, 4 * 16)).every((x) => x === 0)).toBe(true);
    const again = make({ initializerRange: 0.05, padTokenId: 3, qkvBias: true });
    expect(Array.from(again.model.embed_tokens.weight.dataSync())).toEqual(Array.from(emb));
  });

  it('init: false (what loaders use) allocates without drawing random numbers', () => {
    const gen = new Generator(3);
    const m = new LlamaForCausalLM(llamaConfig(small), { generator: gen, init: false });
    expect(gen.getState().counter).toBe(0);
    expect(Array.from(m.model.embed_tokens.weight.dataSync()).every((x) => x === 0)).toBe(true);
    expect(Array.from(m.model.norm.weight.dataSync()).every((x) => x === 1)).toBe(true);
  });

  it('layers and projections swapped with replaceChild (how adapters attach) are the ones forward uses', () => {
    const m = make();
    const ids = tensor([[1, 2, 3]], { dtype: 'i32' });
    const before = noGrad(() => tidy(() => m.forward(ids).logits.dataSync()));
    const attn = m.getModule('model.layers.0.self_attn');
    attn.replaceChild('q_proj', new Linear(16, 16, { bias: false, weight: full([16, 16], 0) }));
    const afterQ = noGrad(() => tidy(() => m.forward(ids).logits.dataSync()));
    expect(Array.from(afterQ)).not.toEqual(Array.from(before));
    expect(m.namedParameters().map(([n]) => n)).toContain('model.layers.0.self_attn.q_proj.weight');
    const other = make({}, 99);
    m.getModule('model.layers').replaceChild('1', other.model.layers.items[1]!);
    expect(m.model.layers.items[1]).toBe(other.model.layers.items[1]);
  });

  it('a left-padded row with its own positions gives the logits of the unpadded row', () => {
    const m = make();
    const ids = [7, 8, 9, 10];
    const alone = noGrad(() => tidy(() => m.forward(tensor([ids], { dtype: 'i32' })).logits.dataSync()));
    const padded = noGrad(() =>
      tidy(() =>
        m
          .forward(tensor([[0, 0, ...ids]], { dtype: 'i32' }), {
            attentionMask: tensor([[0, 0, 1, 1, 1, 1]], { dtype: 'i32' }),
            positionIds: tensor([[1, 1, 0, 1, 2, 3]], { dtype: 'i32' }),
          })
          .logits.slice(1, 2, 6)
          .contiguous()
          .dataSync(),
      ),
    );
    close(padded, alone);
    expect(padded.every(Number.isFinite)).toBe(true);
  });

  it('feeding a sequence through the KV cache in chunks gives the full-sequence logits', () => {
    const m = make({ modelType: 'qwen3', qkNorm: true, headDim: 8 });
    const ids = [[3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14]];
    const full = noGrad(() => tidy(() => m.forward(tensor(ids, { dtype: 'i32' })).logits.dataSync()));
    const cache = new KVCache();
    const parts = noGrad(() =>
      [[0, 4], [4, 5], [5, 6]].map(([s, e]) => tidy(() => m.forward(tensor(ids.map((r) => r.slice(s, e)), { dtype: 'i32' }), { cache }).logits.dataSync())),
    );
    cache.dispose();
    const v = 50;
    const stitched = new Float32Array(full.length);
    [[0, 4], [4, 5], [5, 6]].forEach(([s, e], k) => {
      for (let b = 0; b < 2; b++) for (let t = s!; t < e!; t++) stitched.set(parts[k]!.subarray((b * (e! - s!) + t - s!) * v, (b * (e! - s!) + t - s! + 1) * v), (b * 6 + t) * v);
    });
    close(stitched, full);
  });

  it('sliding window: each position equals a full-attention run on its last `window` tokens (first layer)', () => {
    // With one layer, query i's output depends only on tokens i - window + 1 .. i (through attention)
    // and position ids: the last position of the windowed model equals a global-attention model
    // fed just those tokens at the same positions.
    const fields = { numHiddenLayers: 1, modelType: 'mistral' as const };
    const windowed = make({ ...fields, slidingWindow: 3 });
    const global = make({ ...fields, slidingWindow: null });
    global.loadStateDict(windowed.stateDict());
    const ids = [5, 9, 3, 7, 11, 4, 8];
    const all = noGrad(() => tidy(() => windowed.forward(tensor([ids], { dtype: 'i32' })).logits.dataSync()));
    for (const i of [2, 4, 6]) {
      const tail = noGrad(() =>
        tidy(() =>
          global
            .forward(tensor([ids.slice(i - 2, i + 1)], { dtype: 'i32' }), { positionOffset: i - 2 })
            .logits.slice(1, 2, 3)
            .contiguous()
            .dataSync(),
        ),
      );
      close(all.subarray(i * 50, (i + 1) * 50), tail);
    }
    // A window covering every position is global attention.
    const wide = make({ ...fields, slidingWindow: 7 });
    wide.loadStateDict(windowed.stateDict());
    close(
      noGrad(() => tidy(() => wide.forward(tensor([ids], { dtype: 'i32' })).logits.dataSync())),
      noGrad(() => tidy(() => global.forward(tensor([ids], { dtype: 'i32' })).logits.dataSync())),
    );
    for (const m of [windowed, global, wide]) m.dispose();
  });

  it('sliding window through the KV cache, with left padding, gives the full-sequence logits', () => {
    const m = make({ modelType: 'mistral', slidingWindow: 3 });
    const ids = [[0, 0, 5, 6, 7, 8, 9, 10], [9, 10, 11, 12, 13, 14, 15, 16]];
    const maskRows = [[0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1]];
    const mask = (e: number) => tensor(maskRows.map((r) => r.slice(0, e)), { dtype: 'i32' });
    const full = noGrad(() => tidy(() => m.forward(tensor(ids, { dtype: 'i32' }), { attentionMask: mask(8) }).logits.dataSync()));
    const cache = new KVCache();
    const chunks = [[0, 4], [4, 5], [5, 8]] as const;
    const parts = noGrad(() =>
      chunks.map(([s, e]) => tidy(() => m.forward(tensor(ids.map((r) => r.slice(s, e)), { dtype: 'i32' }), { cache, attentionMask: mask(e) }).logits.dataSync())),
    );
    cache.dispose();
    const v = 50;
    for (const [k, [s, e]] of chunks.entries()) {
      for (let b = 0; b < 2; b++) {
        for (let t = s; t < e; t++) {
          if (maskRows[b]![t] === 0) continue; // padding queries' logits are implementation-defined
          close(parts[k]!.subarray((b * (e - s) + t - s) * v, (b * (e - s) + t - s + 1) * v), full.subarray((b * 8 + t) * v, (b * 8 + t + 1) * v));
        }
      }
    }
    m.dispose();
  });

  it('Qwen2 windows only layers from max_window_layers on; config.json round-trips the window', () => {
    const qwen = llamaConfig({ ...small, modelType: 'qwen2', slidingWindow: 2, maxWindowLayers: 1 });
    const m = new LlamaForCausalLM(qwen, { generator: new Generator(1) });
    expect(m.model.layers.items.map((l) => l.windowed)).toEqual([false, true]);
    const json = llamaConfigToJSON(qwen);
    expect(json).toMatchObject({ use_sliding_window: true, sliding_window: 2, max_window_layers: 1 });
    expect(parseLlamaConfig(json)).toMatchObject({ slidingWindow: 2, maxWindowLayers: 1 });
    const mistral = llamaConfig({ ...small, modelType: 'mistral', slidingWindow: 5 });
    expect(parseLlamaConfig(llamaConfigToJSON(mistral))).toMatchObject({ slidingWindow: 5, maxWindowLayers: 0 });
    m.dispose();
  });

  it('gradient checkpointing gives the same gradients', () => {
    const grads = (ckpt: boolean): Float32Array[] => {
      const m = make({}, 5);
      m.gradientCheckpointing = ckpt;
      const ids = tensor([[1, 2, 3, 4, 5]], { dtype: 'i32' });
      tidy(() => backward(m.forward(ids, { labels: ids }).loss!));
      return m.parameters().map((p) => p.grad!.dataSync() as Float32Array);
    };
    const plain = grads(false);
    grads(true).forEach((g, i) => close(g, plain[i]!, 1e-6));
  });

  it('a training step (forward, loss, backward, AdamW) leaves no tensors behind', () => {
    const m = make({ tieWordEmbeddings: true, padTokenId: 0 });
    const opt = new AdamW(m.namedParameters(), { lr: 1e-3 });
    const ids = tensor([[0, 5, 6, 7], [8, 9, 10, 11]], { dtype: 'i32' });
    const mask = tensor([[0, 1, 1, 1], [1, 1, 1, 1]], { dtype: 'i32' });
    const labels = tensor([[-100, 5, 6, 7], [8, 9, 10, 11]], { dtype: 'i32' });
    const step = (): void => {
      opt.zeroGrad();
      tidy(() => backward(m.forward(ids, { attentionMask: mask, labels }).loss!));
      opt.step();
    };
    step(); // optimizer state appears on the first step
    const before = memory().numUndisposed;
    step();
    step();
    opt.zeroGrad();
    expect(memory().numUndisposed).toBe(before - m.parameters().length);
  });

  it('rejects bad inputs with clear errors', () => {
    const m = make({ slidingWindow: 4, modelType: 'mistral' });
    expect(() => m.forward(tensor([1, 2], { dtype: 'i32' }))).toThrow(/inputIds must be \(B, T\) integer ids, got \[2\]/);
    expect(() => m.forward(tensor([[1, 2]]))).toThrow(/inputIds must be i32 token ids, got f32/);
    expect(() => m.forward(tensor([[1, 2]], { dtype: 'i32' }), { attentionMask: tensor([[1, 1, 1]], { dtype: 'i32' }) })).toThrow(/attentionMask \[1,3\] must be \(B, S\) = \[1,2\]/);
    expect(() => m.forward(tensor([[1, 2]], { dtype: 'i32' }), { labels: tensor([[1, 2]], { dtype: 'i32' }), logitsToKeep: 1 })).toThrow(/labels need logits for every position/);
  });
});

describe('LlamaForCausalLM packed rows', () => {
  it('a (B, T, S) block-diagonal mask with per-example positions gives each example its own logits', async () => {
    const m = make();
    m.eval();
    const a = [3, 7, 11, 2];
    const b = [5, 9, 13];
    // Row: a then b then one pad token; positions restart per example; block-diagonal causal mask.
    const ids = tensor([[...a, ...b, 0]], { dtype: 'i32' });
    const positions = tensor([[0, 1, 2, 3, 0, 1, 2, 0]], { dtype: 'i32' });
    const seg = [0, 0, 0, 0, 1, 1, 1, 2];
    const mask: number[][] = seg.map((si, i) => seg.map((sj, j) => (j <= i && sj === si && si !== 2 ? 1 : 0)));
    const packed = await noGrad(() => m.forward(ids, { positionIds: positions, attentionMask: tensor([mask], { dtype: 'i32' }) }).logits).data();
    const alone = async (xs: number[]): Promise<Float32Array> => (await noGrad(() => m.forward(tensor([xs], { dtype: 'i32' })).logits).data()) as Float32Array;
    const v = small.vocabSize;
    close((packed as Float32Array).subarray(0, a.length * v), await alone(a));
    close((packed as Float32Array).subarray(a.length * v, (a.length + b.length) * v), await alone(b));
    for (const x of (packed as Float32Array).subarray((a.length + b.length) * v)) expect(Number.isFinite(x)).toBe(true);
    // Without the block mask, b's tokens see a's and their logits change.
    const leaky = await noGrad(() => m.forward(ids, { positionIds: positions }).logits).data();
    expect(Math.abs((leaky as Float32Array)[a.length * v + 5]! - (packed as Float32Array)[a.length * v + 5]!)).toBeGreaterThan(1e-6);
  });
});
