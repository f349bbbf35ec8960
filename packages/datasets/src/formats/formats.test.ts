import { describe, expect, it } from 'vitest';
import { detectFormat, toMessages } from '../index.js';

describe('detectFormat', () => {
  it.each([
    [{ instruction: 'a', input: '', output: 'b' }, 'alpaca'],
    [{ conversations: [{ from: 'human', value: 'a' }, { from: 'gpt', value: 'b' }] }, 'sharegpt'],
    [{ messages: [{ role: 'user', content: 'a' }] }, 'messages'],
    [{ prompt: 'a', completion: 'b' }, 'prompt-completion'],
    [{ tokens: ['a'], ner_tags: [0] }, 'token-classification'],
  ])('%j is %s', (record, format) => {
    expect(detectFormat(record)).toBe(format);
  });

  it('lists the fields found and the expected ones', () => {
    expect(() => detectFormat({ question: 'q', answer: 'a', n: 1 })).toThrow(/record with fields \{question: string, answer: string, n: number\}; expected one of alpaca \{instruction, output, input\?\}.*pass \{ format \}/);
  });
});

describe('toMessages', () => {
  it('alpaca: input after the instruction, optional system', () => {
    expect(toMessages({ instruction: 'Translate', input: 'chat', output: 'cat', system: 'S' })).toEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'Translate\n\nchat' },
      { role: 'assistant', content: 'cat' },
    ]);
    expect(toMessages({ instruction: 'Hi', input: '', output: 'Yo' })[0]).toEqual({ role: 'user', content: 'Hi' });
  });

  it('sharegpt: speakers to roles, system prompt kept', () => {
    const r = { system: 'Be brief', conversations: [{ from: 'human', value: 'a' }, { from: 'gpt', value: 'b' }, { from: 'human', value: 'c' }, { from: 'gpt', value: 'd' }] };
    expect(toMessages(r).map((m) => `${m.role}:${m.content}`)).toEqual(['system:Be brief', 'user:a', 'assistant:b', 'user:c', 'assistant:d']);
    expect(() => toMessages({ conversations: [{ from: 'narrator', value: 'x' }] })).toThrow(/conversations\[0\]\.from: unknown speaker "narrator"/);
  });

  it('messages: validated; an example without an answer is refused', () => {
    expect(() => toMessages({ messages: [{ role: 'user', content: 'x' }] })).toThrow(/no assistant message, so nothing would be trained/);
    expect(() => toMessages({ messages: [{ role: 'user', content: 1 }] })).toThrow(/messages\[0\]\.content: expected a string/);
  });

  it("messages: OpenAI text parts are joined", () => {
    const r = { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, { role: 'assistant', content: 'c' }] };
    expect(toMessages(r)[0]).toEqual({ role: 'user', content: 'ab' });
  });

  it('prompt/completion becomes a user/assistant pair', () => {
    expect(toMessages({ prompt: 'p', completion: 'c' })).toEqual([{ role: 'user', content: 'p' }, { role: 'assistant', content: 'c' }]);
  });
});
