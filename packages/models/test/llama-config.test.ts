import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { llamaConfig, llamaConfigToJSON, parseLlamaConfig } from '../src/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const base = { model_type: 'llama', vocab_size: 64, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4 };

describe('parseLlamaConfig', () => {
  it('reads the fixture configs of every family', () => {
    const llama = parseLlamaConfig(readFileSync(join(FIXTURES, 'tiny-llama', 'config.json'), 'utf8'));
    expect(llama).toMatchObject({
      modelType: 'llama',
      numKeyValueHeads: 2,
      headDim: 8,
      rmsNormEps: 1e-5,
      ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 },
      tieWordEmbeddings: false,
      qkvBias: true,
      oBias: true,
      qkNorm: false,
      bosTokenId: 1,
      eosTokenIds: [2],
      padTokenId: 0,
      torchDtype: 'float32',
    });
    const qwen2 = parseLlamaConfig(readFileSync(join(FIXTURES, 'tiny-qwen2', 'config.json'), 'utf8'));
    expect(qwen2).toMatchObject({ modelType: 'qwen2', qkvBias: true, oBias: false, tieWordEmbeddings: true, numKeyValueHeads: 1, ropeTheta: 1e6, slidingWindow: null });
    const qwen3 = parseLlamaConfig(readFileSync(join(FIXTURES, 'tiny-qwen3', 'config.json'), 'utf8'));
    expect(qwen3).toMatchObject({ modelType: 'qwen3', qkNorm: true, qkvBias: false, headDim: 16, eosTokenIds: [2, 3], padTokenId: null });
  });

  it('applies each family default: Qwen3 head_dim 128, Qwen2 always biased, Mistral sliding window, legacy rope "type"', () => {
    expect(parseLlamaConfig({ ...base, model_type: 'qwen3' }).headDim).toBe(128);
    expect(parseLlamaConfig({ ...base, model_type: 'qwen2', attention_bias: false }).qkvBias).toBe(true);
    expect(parseLlamaConfig({ ...base, model_type: 'mistral', sliding_window: 4096 }).slidingWindow).toBe(4096);
    expect(parseLlamaConfig({ ...base, model_type: 'qwen2', sliding_window: 4096 }).slidingWindow).toBeNull(); // use_sliding_window false
    // MistralConfig's default window is 4096; an explicit null (Mistral v0.2+) turns it off.
    expect(parseLlamaConfig({ ...base, model_type: 'mistral' })).toMatchObject({ slidingWindow: 4096, maxWindowLayers: 0 });
    expect(parseLlamaConfig({ ...base, model_type: 'mistral', sliding_window: null }).slidingWindow).toBeNull();
    expect(parseLlamaConfig({ ...base, model_type: 'qwen2', use_sliding_window: true, sliding_window: 16 })).toMatchObject({ slidingWindow: 16, maxWindowLayers: 28 });
    expect(() => parseLlamaConfig({ ...base, model_type: 'qwen3', use_sliding_window: true, sliding_window: 16, max_window_layers: -1 })).toThrow(/"max_window_layers" must be a non-negative integer, got -1/);
    expect(parseLlamaConfig({ ...base, rope_scaling: { type: 'default' } }).ropeScaling).toBeNull();
    const c = parseLlamaConfig({ ...base });
    expect(c).toMatchObject({ headDim: 8, numKeyValueHeads: 4, rmsNormEps: 1e-6, ropeTheta: 10000, hiddenAct: 'silu', eosTokenIds: [], bosTokenId: null });
  });

  it('names the field, the value and the fix in errors', () => {
    expect(() => parseLlamaConfig({ ...base, model_type: 'gpt2' })).toThrow(/"model_type" is "gpt2", which is not supported; expected one of "llama", "mistral", "qwen2", "qwen3"/);
    expect(() => parseLlamaConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/rope_scaling.rope_type "yarn" is not supported; supported: "llama3"/);
    expect(() => parseLlamaConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8 } })).toThrow(/missing "low_freq_factor"/);
    expect(() => parseLlamaConfig({ ...base, num_key_value_heads: 3 })).toThrow(/num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/);
    expect(() => parseLlamaConfig({ ...base, hidden_size: undefined })).toThrow(/config.json \(llama\): missing "hidden_size"; add it/);
    expect(() => parseLlamaConfig({ ...base, vocab_size: '64' })).toThrow(/"vocab_size" must be a finite number, got "64"/);
    expect(() => parseLlamaConfig({ ...base, hidden_size: 30 })).toThrow(/hidden_size \(30\) is not divisible by num_attention_heads \(4\); set "head_dim"/);
    expect(() => parseLlamaConfig({ ...base, hidden_act: 'swish' })).toThrow(/"hidden_act" is "swish", which is not supported/);
    expect(() => parseLlamaConfig({ ...base, eos_token_id: [2, 'x'] })).toThrow(/"eos_token_id" must be a token id or a list of token ids/);
    expect(() => parseLlamaConfig('{ not json')).toThrow(/config.json: not valid JSON/);
    expect(() => parseLlamaConfig('[1]')).toThrow(/config.json: expected a JSON object/);
  });

  it('round-trips through llamaConfigToJSON and builds configs from fields', () => {
    const c = parseLlamaConfig(readFileSync(join(FIXTURES, 'tiny-llama', 'config.json'), 'utf8'));
    const again = parseLlamaConfig(llamaConfigToJSON(c));
    expect({ ...again, raw: null }).toEqual({ ...c, raw: null });
    const made = llamaConfig({ modelType: 'qwen3', vocabSize: 10, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, headDim: 4 });
    expect(made).toMatchObject({ qkNorm: true, headDim: 4, numKeyValueHeads: 2 });
    expect(parseLlamaConfig(made.raw)).toMatchObject({ modelType: 'qwen3', headDim: 4 });
  });
});
