// BERT heads held to PyTorch (fixtures from scripts/reference/gpt2_bert_reference.py; the suite also
// runs on WebGPU in reference.gpu.test.ts), plus names, padding and config errors.
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { noGrad } from '@tessera/autograd';
import { registerBackend, tensor } from '@tessera/tensor';
import { BertForSequenceClassification, BertForTokenClassification, BertModel, parseBertConfig } from '../src/index.js';
import { compare } from './reference-check.js';
import { bertReferenceSuite, reportSuite } from './reference-suites.js';

registerBackend(createCpuBackend());

const TINY = { model_type: 'bert', vocab_size: 30, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 12, num_labels: 3 };

bertReferenceSuite('cpu');
reportSuite();

describe('BERT', () => {
  it('has Hugging Face parameter names; the token head has no pooler', () => {
    const seq = new BertForSequenceClassification(parseBertConfig(TINY));
    const names = seq.namedParameters().map(([n]) => n);
    for (const n of [
      'bert.embeddings.word_embeddings.weight',
      'bert.embeddings.position_embeddings.weight',
      'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight',
      'bert.encoder.layer.1.attention.self.query.weight',
      'bert.encoder.layer.1.attention.output.dense.bias',
      'bert.encoder.layer.1.attention.output.LayerNorm.bias',
      'bert.encoder.layer.0.intermediate.dense.weight',
      'bert.encoder.layer.0.output.dense.weight',
      'bert.encoder.layer.0.output.LayerNorm.weight',
      'bert.pooler.dense.weight',
      'classifier.weight',
    ])
      expect(names).toContain(n);
    const tok = new BertForTokenClassification(parseBertConfig(TINY));
    expect(tok.namedParameters().some(([n]) => n.includes('pooler'))).toBe(false);
    seq.dispose();
    tok.dispose();
  });

  it('padding does not change the real tokens (bidirectional attention with a key mask)', () => {
    const model = new BertModel(parseBertConfig(TINY));
    noGrad(() => {
      const short = model.forward(tensor([[4, 7, 9]], { dtype: 'i32' })).lastHiddenState.dataSync();
      const padded = model.forward(tensor([[4, 7, 9, 0, 0]], { dtype: 'i32' }), { attentionMask: tensor([[1, 1, 1, 0, 0]], { dtype: 'i32' }) }).lastHiddenState;
      compare('padded hidden states', padded.slice(1, 0, 3).dataSync(), short);
    });
    model.dispose();
  });

  it('names the field and the fix for bad configs and labels', () => {
    expect(() => parseBertConfig({ ...TINY, hidden_size: 15 })).toThrow(/hidden_size 15 must be divisible by num_attention_heads 2/);
    expect(() => parseBertConfig({ ...TINY, position_embedding_type: 'relative_key' })).toThrow(/only "absolute"/);
    const model = new BertForSequenceClassification(parseBertConfig(TINY));
    expect(() => model.forward(tensor([[1, 2]], { dtype: 'i32' }), { labels: tensor([[1, 2]], { dtype: 'i32' }) })).toThrow(/labels \[1,2\] must be \[1\]/);
    model.dispose();
  });
});
