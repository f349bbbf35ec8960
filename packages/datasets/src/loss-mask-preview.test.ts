import { describe, expect, it } from 'vitest';
import { llama3, qwen3 } from '../test/tokenizers.js';
import { previewLossMask } from './index.js';

const record = { conversations: [{ from: 'human', value: 'Say <hi> & bye' }, { from: 'gpt', value: 'Hi & bye!' }] };

describe('previewLossMask', () => {
  it('marks trained text in plain form (Qwen3)', () => {
    expect(previewLossMask(qwen3(), record, { format: 'text' })).toBe('<|im_start|>user\nSay <hi> & bye<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n⟦Hi & bye!<|im_end|>⟧\n\n-- 5 of 24 tokens trained (⟦trained⟧)');
  });

  it('escapes HTML and marks trained runs', () => {
    const html = previewLossMask(llama3(), record, { format: 'html' });
    expect(html).toContain('<mark class="trained">Hi &amp; bye!&lt;|eot_id|&gt;</mark>');
    expect(html).toContain('Say &lt;hi&gt; &amp; bye');
    expect(html).not.toContain('<hi>');
  });

  it('colours trained text for a terminal', () => {
    const ansi = previewLossMask(llama3(), record, { format: 'ansi' });
    expect(ansi).toContain('\x1b[30;42mHi & bye!<|eot_id|>\x1b[0m');
    expect(ansi).toContain('\x1b[2m<|begin_of_text|>');
  });

  it('says when truncation would drop the example', () => {
    expect(() => previewLossMask(qwen3(), record, { maxLength: 3 })).toThrow(/dropped this example, so nothing of it would be trained/);
  });
});
