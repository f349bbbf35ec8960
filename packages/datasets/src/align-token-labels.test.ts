import { describe, expect, it } from 'vitest';
import { llama3, qwen3 } from '../test/tokenizers.js';
import { alignTokenClassificationExample, alignTokenLabels, IGNORE_INDEX, readConll } from './index.js';

const labelToId = { O: 0, 'B-PER': 1, 'I-PER': 2, 'B-LOC': 3, 'I-LOC': 4 };
// "Tchaikovsky" and "Wrocławiu" split into several sub-tokens in both vocabularies.
const words = ['Tchaikovsky', 'visited', 'Wrocławiu', '.'];
const tags = ['B-PER', 'O', 'B-LOC', 'O'];

describe.each([
  ['Llama 3', llama3],
  ['Qwen3', qwen3],
])('alignTokenLabels with the real %s tokenizer', (_, tok) => {
  it('labels the first sub-token of each word and -100 on the rest', () => {
    const a = alignTokenLabels(tok(), words, tags, { labelToId });
    // Every word's tokens decode back to the word (with its leading space).
    const byWord = words.map((_, w) => tok().decode(a.inputIds.filter((__, k) => a.wordIds[k] === w), { cleanUpTokenizationSpaces: false }));
    expect(byWord).toEqual(['Tchaikovsky', ' visited', ' Wrocławiu', ' .']);
    expect(a.wordIds.filter((w) => w === 0).length).toBeGreaterThan(1);
    const firsts = a.labels.filter((l) => l !== IGNORE_INDEX);
    expect(firsts).toEqual([1, 0, 3, 0]);
    a.wordIds.forEach((w, k) => {
      const first = w !== null && a.wordIds.indexOf(w) === k;
      expect(a.labels[k]).toBe(first ? labelToId[tags[w!] as keyof typeof labelToId] : IGNORE_INDEX);
    });
  });

  it("'all' labels every sub-token; 'all-inside' turns B- into I- after the first", () => {
    const all = alignTokenLabels(tok(), words, tags, { labelToId, subTokens: 'all' });
    const inside = alignTokenLabels(tok(), words, tags, { labelToId, subTokens: 'all-inside' });
    all.wordIds.forEach((w, k) => {
      if (w === null) return;
      const first = all.wordIds.indexOf(w) === k;
      const tag = tags[w]!;
      expect(all.labels[k]).toBe(labelToId[tag as keyof typeof labelToId]);
      expect(inside.labels[k]).toBe(labelToId[(first ? tag : tag.replace('B-', 'I-')) as keyof typeof labelToId]);
    });
  });
});

describe('alignTokenLabels errors and options', () => {
  it('names an unknown tag and mismatched lengths', () => {
    expect(() => alignTokenLabels(qwen3(), ['a'], ['B-ORG'], { labelToId })).toThrow(/tag "B-ORG" of word 0 \("a"\) has no id; add it to labelToId/);
    expect(() => alignTokenLabels(qwen3(), ['a', 'b'], ['O'])).toThrow(/2 words but 1 tags/);
  });

  it('accepts numeric tags and cuts to maxLength', () => {
    const a = alignTokenLabels(qwen3(), words, [1, 0, 3, 0], { maxLength: 2 });
    expect(a.inputIds.length).toBe(2);
    expect(a.labels[0]).toBe(1);
  });
});

describe('alignTokenClassificationExample', () => {
  it('aligns CoNLL sentences read from text (the NER path end to end)', async () => {
    const ids = { O: 0, 'B-ORG': 1, 'I-ORG': 2, 'B-MISC': 3, 'I-MISC': 4 };
    for await (const s of readConll({ text: 'EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n' })) {
      const a = alignTokenClassificationExample(llama3(), s, { labelToId: ids });
      expect(a.labels.filter((l) => l !== IGNORE_INDEX)).toEqual([1, 0, 3]);
    }
    expect(alignTokenClassificationExample(qwen3(), { tokens: ['a'], ner_tags: [2] }).labels).toEqual([2]);
  });
});
