import fc from 'fast-check';
import type { Tokenizer } from '@tessera/tokenizers';
import { describe, expect, it } from 'vitest';
import { llama2, LLAMA2_CHAT_TEMPLATE, llama3, llama3Base, numRuns, qwen3 } from '../test/tokenizers.js';
import { ChatExampleTokenizer, Dataset, formatTruncationReport, IGNORE_INDEX, tokenizeChat, type TokenizedExample } from './index.js';

const conversation = {
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'Hi there' },
    { role: 'assistant', content: 'Hello! How can I help?' },
    { role: 'user', content: 'Add 2+2' },
    { role: 'assistant', content: 'It is 4.' },
  ],
};

/** The trained stretches of an example, each decoded. */
function trainedRuns(tok: Tokenizer, ex: TokenizedExample): string[] {
  const runs: number[][] = [];
  let prev = false;
  ex.labels.forEach((l, k) => {
    const on = l !== IGNORE_INDEX;
    if (on) {
      expect(l).toBe(ex.inputIds[k]);
      if (!prev) runs.push([]);
      runs[runs.length - 1]!.push(l);
    }
    prev = on;
  });
  return runs.map((r) => tok.decode(r));
}

const cases = [
  { name: 'Llama 3', tok: llama3, eot: '<|eot_id|>' },
  { name: 'Qwen3', tok: qwen3, eot: '<|im_end|>' },
];

describe.each(cases)('tokenizeChat with the real $name chat template', ({ tok, eot }) => {
  it('trains every answer and its end-of-turn token, nothing else (multi-turn)', () => {
    const ex = tokenizeChat(tok(), conversation)!;
    expect(trainedRuns(tok(), ex)).toEqual([`Hello! How can I help?${eot}`, `It is 4.${eot}`]);
    expect(ex.attentionMask.every((m) => m === 1)).toBe(true);
    // The ids are exactly the template's rendering, tokenised once.
    expect(tok().decode(ex.inputIds)).toBe(tok().applyChatTemplate(conversation.messages).text);
  });

  it('last turn only', () => {
    const ex = tokenizeChat(tok(), conversation, { trainOn: 'last-turn' })!;
    expect(trainedRuns(tok(), ex)).toEqual([`It is 4.${eot}`]);
  });

  it('trainOnInputs trains every token', () => {
    const ex = tokenizeChat(tok(), conversation, { trainOnInputs: true })!;
    expect(ex.labels).toEqual(ex.inputIds);
  });

  it('labels every answer of random conversations exactly (property)', () => {
    const word = fc.constantFrom('alpha', 'beta', 'gamma', 'de', 'x', '42', 'é', '日本', 'ok.', 'why?');
    const text = fc.array(word, { minLength: 1, maxLength: 6 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 3 }), (turns) => {
        const messages = turns.flatMap(([u, a]) => [{ role: 'user', content: u }, { role: 'assistant', content: a }]);
        const ex = tokenizeChat(tok(), { messages })!;
        expect(trainedRuns(tok(), ex)).toEqual(turns.map(([, a]) => a + eot));
      }),
      { numRuns: Math.min(numRuns, 50) },
    );
  });
});

describe('tokenizeChat with the real Llama 2 tokenizer and the official Llama-2-chat template (answer, space, </s>)', () => {
  const template = { chatTemplate: LLAMA2_CHAT_TEMPLATE };
  /** Each token's piece, with T where it is trained. */
  const pieces = (ex: TokenizedExample): string[] => ex.inputIds.map((id, k) => `${llama2().idToToken(id)}${ex.labels[k] === IGNORE_INDEX ? '' : ':T'}`);

  it('trains the whitespace piece and </s> after each answer, as TRL trains " </s>"', () => {
    const ex = tokenizeChat(llama2(), { messages: [{ role: 'user', content: 'Name a colour' }, { role: 'assistant', content: 'Blue.' }] }, { template })!;
    // The template writes ' ' + answer + ' ' + eos_token: the space before </s> is its own "▁" piece,
    // so </s> is not the first token after the answer (before the fix "▁" and "</s>" stayed -100).
    expect(pieces(ex).slice(-4)).toEqual(['▁Blue:T', '.:T', '▁:T', '</s>:T']);
    expect(trainedRuns(llama2(), ex)).toEqual(['Blue. </s>']);
  });

  it('every turn of a conversation with a system prompt; last-turn trains only the last', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Name a colour' },
      { role: 'assistant', content: 'Blue.' },
      { role: 'user', content: 'Another' },
      { role: 'assistant', content: 'Red, or 日本 é.' },
    ];
    const ex = tokenizeChat(llama2(), { messages }, { template })!;
    expect(trainedRuns(llama2(), ex)).toEqual(['Blue. </s>', 'Red, or 日本 é. </s>']);
    expect(llama2().decode(ex.inputIds)).toBe('<s> [INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nName a colour [/INST] Blue. </s><s> [INST] Another [/INST] Red, or 日本 é. </s>');
    expect(trainedRuns(llama2(), tokenizeChat(llama2(), { messages }, { template, trainOn: 'last-turn' })!)).toEqual(['Red, or 日本 é. </s>']);
  });

  it('a plain-text token after the whitespace stops the search: nothing past the answer is trained', () => {
    // Same layout, but the turn ends in plain text, not a special token.
    const plainEnd = LLAMA2_CHAT_TEMPLATE.replace("' ' + eos_token", "' END'");
    const ex = tokenizeChat(llama2(), { messages: [{ role: 'user', content: 'Name a colour' }, { role: 'assistant', content: 'Blue.' }] }, { template: { chatTemplate: plainEnd } })!;
    expect(trainedRuns(llama2(), ex)).toEqual(['Blue.']);
  });
});

describe('truncation', () => {
  const tok = qwen3;
  const full = tokenizeChat(tok(), conversation)!;
  const n = full.inputIds.length;

  it("'end' keeps a partly cut answer and counts it as truncated", () => {
    const t = new ChatExampleTokenizer(tok(), { maxLength: n - 3 });
    const ex = t.tokenize(conversation)!;
    expect(ex.inputIds).toEqual(full.inputIds.slice(0, n - 3));
    expect(t.report).toMatchObject({ examples: 1, truncated: 1, dropped: 0 });
  });

  it("drops (and counts) an example whose answers are all cut, never silently", () => {
    const firstAnswer = full.labels.findIndex((l) => l !== IGNORE_INDEX);
    const t = new ChatExampleTokenizer(tok(), { maxLength: firstAnswer, trainOn: 'all-turns' });
    expect(t.tokenize(conversation)).toBeNull();
    expect(t.tokenize({ prompt: 'a', completion: 'b' })).not.toBeNull();
    expect(t.report).toMatchObject({ examples: 2, truncated: 0, dropped: 1, droppedIndexes: [0] });
    expect(formatTruncationReport(t.report, firstAnswer)).toBe(`2 examples: 0 truncated, 1 dropped (over maxLength ${firstAnswer})`);
  });

  it('counts only records that became examples: one toMessages refuses is not in report.examples', () => {
    const t = new ChatExampleTokenizer(tok(), { maxLength: 1000 });
    expect(() => t.tokenize({ neither: 'prompt nor messages' })).toThrow();
    expect(t.tokenize(conversation)).not.toBeNull();
    expect(t.report).toMatchObject({ examples: 1, truncated: 0, dropped: 0 });
  });

  it("'start' keeps the end; 'drop' drops anything too long", () => {
    const s = new ChatExampleTokenizer(tok(), { maxLength: 10, truncation: 'start' });
    expect(s.tokenize(conversation)!.inputIds).toEqual(full.inputIds.slice(n - 10));
    const d = new ChatExampleTokenizer(tok(), { maxLength: n - 1, truncation: 'drop' });
    expect(d.tokenize(conversation)).toBeNull();
    expect(d.tokenize(conversation.messages.slice(0, 3))).not.toBeNull();
    expect(d.report).toMatchObject({ examples: 2, dropped: 1, truncated: 0 });
  });
});

describe('named instruction templates (base models)', () => {
  it('refuses a conversation without an answer rather than training nothing', () => {
    expect(() => tokenizeChat(qwen3(), [{ role: 'user', content: 'hi' }])).toThrow(/no assistant message, so nothing would be trained/);
  });

  it('refuses the model template when the tokenizer has none, naming the templates', () => {
    expect(() => tokenizeChat(llama3Base(), conversation)).toThrow(/no chat template \(a base model\?\); pass \{ template: 'alpaca' \| 'chatml' \| 'completion' \}/);
  });

  it('alpaca: BOS first, the answer and EOS trained', () => {
    const tok = llama3Base();
    const ex = tokenizeChat(tok, { instruction: 'Name a colour', input: '', output: 'Blue.' }, { template: 'alpaca' })!;
    expect(tok.idToToken(ex.inputIds[0]!)).toBe('<|begin_of_text|>');
    expect(trainedRuns(tok, ex)).toEqual(['Blue.<|end_of_text|>']);
    expect(tok.decode(ex.inputIds)).toBe('<|begin_of_text|>Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a colour\n\n### Response:\nBlue.<|end_of_text|>');
  });

  it('completion: prompt then completion then EOS; chatml trains <|im_end|> even where it is plain text', () => {
    const tok = llama3Base();
    const ex = tokenizeChat(tok, { prompt: 'The sky is', completion: ' blue' }, { template: 'completion' })!;
    expect(tok.decode(ex.inputIds)).toBe('<|begin_of_text|>The sky is blue<|end_of_text|>');
    expect(trainedRuns(tok, ex)).toEqual([' blue<|end_of_text|>']);
    const c = tokenizeChat(tok, { prompt: 'Hi', completion: 'Yo' }, { template: 'chatml' })!;
    // Llama 3's vocabulary has '>\n' as one token, so the newline after the marker trains with it.
    expect(trainedRuns(tok, c)).toEqual(['Yo<|im_end|>\n']);
  });
});

describe('ChatExampleTokenizer.apply', () => {
  it('streams a dataset of mixed formats, leaving out and counting dropped examples', async () => {
    const records = [conversation, { instruction: 'Hi', output: 'Yo' }, { conversations: [{ from: 'human', value: 'a' }, { from: 'gpt', value: 'b' }] }, { prompt: 'p', completion: 'c' }];
    const t = new ChatExampleTokenizer(qwen3(), { maxLength: 30, truncation: 'drop' });
    const out = await t.apply(Dataset.from(records)).toArray();
    expect(out.length).toBe(3);
    expect(t.report).toMatchObject({ examples: 4, dropped: 1, droppedIndexes: [0] });
  });
});
