// estimateMemory against exact parameter counts (instantiated tiny models, Llama-2-7B's published figure).
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { registerBackend } from '@tessera/tensor';
import { GPT2LMHeadModel, LlamaForCausalLM, estimateMemory, parseGPT2Config, parseLlamaConfig } from '../src/index.js';

registerBackend(createCpuBackend());

const LLAMA2_7B = parseLlamaConfig({
  model_type: 'llama', vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 32, tie_word_embeddings: false, rms_norm_eps: 1e-5, max_position_embeddings: 4096,
});

describe('estimateMemory', () => {
  it('counts Llama-2-7B exactly (6,738,415,616) and sizes a bf16 AdamW step', () => {
    const e = estimateMemory(LLAMA2_7B, { dtype: 'bf16', batch: 1, seq: 2048, optimizer: 'adamw', gradientCheckpointing: true });
    expect(e.parameters.total).toBe(6_738_415_616);
    expect(e.parameters.trainable).toBe(6_738_415_616);
    expect(e.bytes.weights).toBe(2 * 6_738_415_616);
    expect(e.bytes.optimizer).toBe(8 * 6_738_415_616);
    expect(e.fits(64 * 2 ** 30)).toBe(false);
    expect(e.fits(141 * 2 ** 30)).toBe(true);
    console.log('llama-2-7b bf16 full AdamW, 1x2048, checkpointing:', JSON.stringify(e.bytes));
  });

  it('counts LoRA adapters (r 8 on q_proj, v_proj: 4,194,304 for Llama-2-7B)', () => {
    const e = estimateMemory(LLAMA2_7B, { dtype: 'bf16', batch: 1, seq: 2048, optimizer: 'adamw', lora: { r: 8, targetModules: ['q_proj', 'v_proj'] } });
    expect(e.parameters.trainable).toBe(4_194_304);
    expect(e.bytes.optimizer).toBe(8 * 4_194_304);
    expect(e.fits(48 * 2 ** 30)).toBe(true);
    console.log('llama-2-7b bf16 LoRA r8 q,v, 1x2048:', JSON.stringify(e.bytes));
    expect(() => estimateMemory(LLAMA2_7B, { dtype: 'f32', batch: 1, seq: 8, lora: { r: 8, targetModules: ['c_attn'] } })).toThrow(/not projections of this model/);
  });

  it('matches the parameter counts of instantiated models', () => {
    const gpt2 = parseGPT2Config({ model_type: 'gpt2', vocab_size: 40, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 24 });
    const g = new GPT2LMHeadModel(gpt2);
    expect(estimateMemory(gpt2, { dtype: 'f32', batch: 1, seq: 4 }).parameters.total).toBe(g.numParameters());
    g.dispose();
    for (const extra of [{ model_type: 'llama', tie_word_embeddings: true }, { model_type: 'qwen2', num_key_value_heads: 1 }, { model_type: 'qwen3', head_dim: 8, num_key_value_heads: 1 }]) {
      const c = parseLlamaConfig({ vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, ...extra });
      const m = new LlamaForCausalLM(c);
      expect(estimateMemory(c, { dtype: 'f32', batch: 1, seq: 4 }).parameters.total, extra.model_type).toBe(m.numParameters());
      m.dispose();
    }
  });

  it('checkpointing shrinks activations', () => {
    const a = estimateMemory(LLAMA2_7B, { dtype: 'bf16', batch: 4, seq: 1024 }).bytes.activations;
    const b = estimateMemory(LLAMA2_7B, { dtype: 'bf16', batch: 4, seq: 1024, gradientCheckpointing: true }).bytes.activations;
    expect(b).toBeLessThan(a / 4);
  });
});
