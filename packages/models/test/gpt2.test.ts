// GPT-2 held to PyTorch (fixtures from scripts/reference/gpt2_bert_reference.py; the suite also runs on
// WebGPU in reference.gpu.test.ts), plus names, cache and config errors.
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { KVCache } from '@tessera/nn';
import { concat, registerBackend, tensor, type Tensor } from '@tessera/tensor';
import { GPT2LMHeadModel, generate, parseGPT2Config } from '../src/index.js';
import { compare } from './reference-check.js';
import { gpt2ReferenceSuite, reportSuite } from './reference-suites.js';

registerBackend(createCpuBackend());

const TINY = { model_type: 'gpt2', vocab_size: 40, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 24, eos_token_id: 2 };

gpt2ReferenceSuite('cpu');
reportSuite();

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
