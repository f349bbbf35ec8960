// GPT-2 held to PyTorch (fixtures from scripts/reference/gpt2_bert_reference.py), plus names, cache and config errors.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { KVCache } from '@tessera/nn';
import { concat, registerBackend, tensor, type Tensor } from '@tessera/tensor';
import { GPT2LMHeadModel, generate, loadGPT2OrBert, parseGPT2Config } from '../src/index.js';
import { FIXTURES, checkAdamW, checkGradients, compare, fmt, readReference } from './reference-check.js';

registerBackend(createCpuBackend());

const TINY = { model_type: 'gpt2', vocab_size: 40, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 24, eos_token_id: 2 };

async function loadTiny(): Promise<GPT2LMHeadModel> {
  const loaded = await loadGPT2OrBert(join(FIXTURES, 'tiny-gpt2'));
  if (loaded.kind !== 'gpt2') throw new Error('tiny-gpt2 is not a GPT-2');
  return loaded.model;
}

describe('GPT2LMHeadModel against PyTorch', () => {
  const ref = readReference('tiny-gpt2');
  const mask = ref.i32('attention_mask');
  const run = (m: unknown) => (m as GPT2LMHeadModel).forward(ref.int('input_ids'), { attentionMask: ref.int('attention_mask'), labels: ref.int('labels') });

  it('logits, loss and every gradient match', async () => {
    const model = await loadTiny();
    const { logits, loss, worst, count } = checkGradients(model, ref, run);
    const v = logits.shape[2]!;
    // Logits at padding positions are implementation-defined; the loss never reads them.
    const l = compare('logits', logits.dataSync(), ref.f32('logits'), (i) => mask[Math.floor(i / v)] === 1);
    const s = compare('loss', loss.dataSync(), ref.f32('loss'));
    console.log(`tiny-gpt2: logits ${fmt(l)}; loss ${fmt(s)}; gradients (${count} tensors, worst) ${fmt(worst)}`);
    expect(count).toBe(4 + 12 * 2);
    model.dispose();
  });

  it('three AdamW steps land on the same parameters', async () => {
    const model = await loadTiny();
    const { losses, params, noisy } = checkAdamW(model, ref, run);
    console.log(`tiny-gpt2 AdamW: losses ${fmt(losses)}; params (worst) ${fmt(params)}; ${noisy} elements with noise-level gradients`);
    model.dispose();
  });
});

describe('GPT2LMHeadModel', () => {
  it('has Hugging Face parameter names with Conv1D (in, out) weights and a tied head', () => {
    const model = new GPT2LMHeadModel(parseGPT2Config(TINY));
    const shapes = Object.fromEntries(model.namedParameters().map(([n, p]) => [n, p.shape]));
    expect(shapes['transformer.wte.weight']).toEqual([40, 16]);
    expect(shapes['transformer.wpe.weight']).toEqual([24, 16]);
    expect(shapes['transformer.h.1.attn.c_attn.weight']).toEqual([16, 48]);
    expect(shapes['transformer.h.0.mlp.c_fc.weight']).toEqual([16, 64]);
    expect(shapes['transformer.h.0.mlp.c_proj.weight']).toEqual([64, 16]);
    expect(shapes['transformer.ln_f.bias']).toEqual([16]);
    expect(shapes['lm_head.weight']).toBeUndefined();
    model.dispose();
  });

  it('one token at a time through a KV cache gives the full forward logits', () => {
    const model = new GPT2LMHeadModel(parseGPT2Config(TINY));
    const ids = tensor([[5, 9, 3, 7, 11, 4]], { dtype: 'i32' });
    const full = model.forward(ids).logits.dataSync();
    const cache = new KVCache();
    const steps: Tensor[] = [];
    for (let i = 0; i < 6; i++) steps.push(model.forward(ids.slice(1, i, i + 1), { cache }).logits);
    compare('cached logits', concat(steps, 1).dataSync(), full);
    cache.dispose();
    model.dispose();
  });

  it('the shared generate drives it', async () => {
    const model = new GPT2LMHeadModel(parseGPT2Config(TINY));
    const { tokens } = await generate(model, [[5, 9, 3]], { maxNewTokens: 4, eosTokenId: [] });
    expect(tokens[0]).toHaveLength(4);
    model.dispose();
  });

  it('names the field and the fix for a bad config, and refuses too many positions', () => {
    expect(() => parseGPT2Config({ ...TINY, n_head: 3 })).toThrow(/n_embd 16 must be divisible by n_head 3/);
    expect(() => parseGPT2Config({ ...TINY, model_type: 'bert' })).toThrow(/is not "gpt2"/);
    const model = new GPT2LMHeadModel(parseGPT2Config(TINY));
    expect(() => model.forward(tensor([Array.from({ length: 25 }, () => 1)], { dtype: 'i32' }))).toThrow(/exceed n_positions 24/);
    model.dispose();
  });
});
