import { describe, expect, it } from 'vitest';
import { assistantTokenMask, Tokenizer } from '../src/index.js';
import { fixtures } from './fixtures.js';

const byName = Object.fromEntries(fixtures().map((f) => [f.name, Tokenizer.fromJSON(f.json as never, f.config)]));

const conversation = [
  { role: 'system', content: 'You are helpful.' },
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: 'Hello! How can I help?' },
  { role: 'user', content: 'Add 2+2' },
  { role: 'assistant', content: 'It is 4.' },
];

describe('applyChatTemplate', () => {
  // This Llama 3 template always ends with the assistant header, whatever add_generation_prompt says.
  it('renders Llama 3 with its own template', () => {
    const r = byName.llama3!.applyChatTemplate(conversation, { addGenerationPrompt: false });
    expect(r.text).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAdd 2+2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nIt is 4.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('renders Qwen3 with a generation prompt', () => {
    const r = byName.qwen3!.applyChatTemplate(conversation.slice(0, 4), { addGenerationPrompt: true });
    expect(r.text).toBe('<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello! How can I help?<|im_end|>\n<|im_start|>user\nAdd 2+2<|im_end|>\n<|im_start|>assistant\n');
  });

  it('renders Gemma 3 (system folded into the first user turn)', () => {
    const r = byName.gemma3!.applyChatTemplate(conversation, { addGenerationPrompt: false });
    expect(r.text).toBe('<bos><start_of_turn>user\nYou are helpful.\n\nHi there<end_of_turn>\n<start_of_turn>model\nHello! How can I help?<end_of_turn>\n<start_of_turn>user\nAdd 2+2<end_of_turn>\n<start_of_turn>model\nIt is 4.<end_of_turn>\n');
  });

  it.each(['llama3', 'qwen3', 'gemma3'])('%s: assistant spans cover exactly the answers', (name) => {
    const r = byName[name]!.applyChatTemplate(conversation);
    expect(r.assistantSpans.map((s) => s.messageIndex)).toEqual([2, 4]);
    expect(r.assistantSpans.map((s) => r.text.slice(s.start, s.end))).toEqual(['Hello! How can I help?', 'It is 4.']);
  });

  it('finds spans when the template rewrites the content (Qwen3 reasoning)', () => {
    const msgs = [...conversation.slice(0, 4), { role: 'assistant', content: '<think>\nadd them\n</think>\n\nIt is 4.' }];
    const r = byName.qwen3!.applyChatTemplate(msgs);
    const last = r.assistantSpans.find((s) => s.messageIndex === 4)!;
    expect(r.text.slice(last.start, last.end)).toContain('It is 4.');
  });

  it('passes tools to the template', () => {
    const tools = [{ type: 'function', function: { name: 'add', description: 'Add numbers', parameters: { type: 'object', properties: {} } } }];
    const r = byName.qwen3!.applyChatTemplate(conversation.slice(1, 2), { tools, addGenerationPrompt: true });
    expect(r.text).toContain('<tools>');
    expect(r.text).toContain('"name": "add"');
  });

  it('masks exactly the answer tokens for loss-on-answers training', () => {
    const tok = byName.llama3!;
    const r = tok.applyChatTemplate(conversation);
    const enc = tok.encode(r.text, { addSpecialTokens: false, offsetUnit: 'utf16' });
    const mask = assistantTokenMask(enc.offsets, r.assistantSpans);
    const answerIds = enc.ids.filter((_, i) => mask[i] === 1);
    expect(tok.decode(answerIds)).toBe('Hello! How can I help?It is 4.');
  });

  it('names the fix when the config has no template', () => {
    expect(() => byName.llama2!.applyChatTemplate(conversation)).toThrow(/no chat_template.*pass \{ chatTemplate \}/);
  });

  it('accepts an explicit template', () => {
    const r = byName.llama2!.applyChatTemplate(conversation.slice(1, 3), { chatTemplate: '{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}' });
    expect(r.text).toBe('[user] Hi there\n[assistant] Hello! How can I help?\n');
    expect(r.assistantSpans).toEqual([{ messageIndex: 1, start: 28, end: 50 }]);
  });
});
