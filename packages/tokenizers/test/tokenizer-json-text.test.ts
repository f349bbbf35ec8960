import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.js';
import { scanTokenizerJson } from '../src/tokenizer-json-text.js';
import { buildCorpus } from './corpus.js';
import { extraFixtures, fixtures } from './fixtures.js';

// Loading from text decodes model.vocab and model.merges straight into typed arrays (the load-time
// fast path); it must build exactly the tokenizer that the parsed object builds.
describe('tokenizer.json text fast path', () => {
  const corpus = buildCorpus(300, ['<|begin_of_text|>', '<s>', '[CLS]'], 7);

  it.each([...fixtures(), ...extraFixtures()].map((f) => [f.name, f] as const))('%s: same vocabulary, merges and encodings as from the parsed object', (name, f) => {
    const text = JSON.stringify(f.json);
    const scanned = scanTokenizerJson(text);
    const isBpe = (f.json.model as { type: string }).type === 'BPE';
    expect(scanned !== null).toBe(isBpe);
    const fromText = Tokenizer.fromJSON(text, f.config);
    const fromObject = Tokenizer.fromJSON(f.json as never, f.config);
    expect(fromText.getVocab()).toEqual(fromObject.getVocab());
    expect(fromText.toJSON()).toEqual(fromObject.toJSON());
    for (const s of corpus) expect(fromText.encode(s), `${name}: ${JSON.stringify(s)}`).toEqual(fromObject.encode(s));
  });

  const tiny = (vocabText: string, mergesText: string, extra = ''): string =>
    `{ "version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,\n "model": { "type": "BPE"${extra}, "vocab": ${vocabText}, "merges": ${mergesText} } }`;

  it('decodes escapes, whitespace and both merge forms like JSON.parse', () => {
    const vocab = '{ "a": 0, "b" : 1,\n\t"ab": 2, "\\"": 3, "\\u00e9": 4, "\\"\\u00e9": 5, "\\\\": 6, "a\\\\": 7, "\\ud83d\\ude00": 8 }';
    for (const merges of ['[ "a b", "\\" \\u00e9", "a \\\\" ]', '[["a", "b"], ["\\"", "\\u00e9"], ["a", "\\\\"]]']) {
      const text = tiny(vocab, merges);
      const scanned = scanTokenizerJson(text);
      expect(scanned).not.toBeNull();
      const a = Tokenizer.fromJSON(text);
      const b = Tokenizer.fromJSON(JSON.parse(text));
      expect(a.getVocab()).toEqual(b.getVocab());
      expect(a.toJSON()).toEqual(b.toJSON());
      expect(a.idToToken(8)).toBe('😀');
      for (const s of ['ab', '"é', 'a\\', 'ba"é😀']) expect(a.encode(s)).toEqual(b.encode(s));
      expect(a.encode('ab').ids).toEqual([2]);
      expect(a.encode('"é').ids).toEqual([5]);
    }
  });

  it('falls back to JSON.parse for shapes it does not decode (and keeps its errors)', () => {
    // Duplicate keys (JSON.parse keeps the last), fractional ids, non-BPE models.
    expect(scanTokenizerJson(tiny('{ "a": 0, "b": 1, "a": 2 }', '[]'))).toBeNull();
    expect(Tokenizer.fromJSON(tiny('{ "a": 0, "b": 1, "a": 2 }', '[]')).tokenToId('a')).toBe(2);
    expect(scanTokenizerJson(tiny('{ "a": 1.0 }', '[]'))).toBeNull();
    expect(scanTokenizerJson(tiny('{ "a": 0 }', '[]').replace('"BPE"', '"WordLevel"'))).toBeNull();
    expect(() => Tokenizer.fromJSON(tiny('{ "a": -1 }', '[]'))).toThrow(/model.vocab\["a"\]: expected a non-negative integer id, got -1/);
    expect(() => Tokenizer.fromJSON(tiny('{ "a": 0 }', '["a c"]'))).toThrow(/model.merges\[0\]: token "c" is not in model.vocab/);
    expect(() => Tokenizer.fromJSON(tiny('{ "a": 0, "c": 1 }', '["a c"]'))).toThrow(/model.merges\[0\]: merged token "ac" is not in model.vocab/);
    expect(() => Tokenizer.fromJSON(tiny('{ "a": 0 }', '["ac"]'))).toThrow(/model.merges\[0\]: expected "left right" separated by one space/);
    expect(() => Tokenizer.fromJSON(tiny('{ "a": 0 }', '["a a"'))).toThrow(/tokenizer.json: not valid JSON/);
  });
});
