import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.js';
import { buildCorpus } from './corpus.js';

// Real SentencePiece Unigram models with the Precompiled (nmt_nfkc) normalizer, written as
// transformers writes T5 and XLM-R files (scripts/generate-unigram-fixtures.py), held to the
// Rust tokenizers on the same 5,000-string corpus as the other real files.
const CORPUS_SIZE = Number(process.env.TOKENIZERS_CORPUS_SIZE ?? 5000);
const fixture = (name: string): string => new URL(`./fixtures/${name}.tokenizer.json`, import.meta.url).pathname;

describe.each(['unigram-t5-style', 'unigram-xlmr-style'])('%s matches the Rust tokenizers', (name) => {
  it(`on ${CORPUS_SIZE} corpus strings`, async () => {
    const path = fixture(name);
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const ours = Tokenizer.fromJSON(json as never);
    const rust = RustTokenizer.fromFile(path);
    const specials = (json.added_tokens as Array<{ content: string; special: boolean }>).filter((t) => t.special).slice(0, 8).map((t) => t.content);
    const corpus = buildCorpus(CORPUS_SIZE, specials);
    const failures: string[] = [];
    const counts = { ids: 0, tokens: 0, offsets: 0, specialMask: 0, decode: 0 };
    for (let i = 0; i < corpus.length; i++) {
      const text = corpus[i]!;
      for (const addSpecialTokens of i % 5 === 0 ? [true, false] : [true]) {
        const r = await rust.encode(text, null, { addSpecialTokens });
        const o = ours.encode(text, { addSpecialTokens });
        const fail = (what: keyof typeof counts, want: unknown, got: unknown): void => {
          counts[what]++;
          if (failures.length < 10) failures.push(`${what} for ${JSON.stringify(text).slice(0, 120)}: rust ${JSON.stringify(want).slice(0, 300)} ours ${JSON.stringify(got).slice(0, 300)}`);
        };
        const ids = r.getIds();
        if (JSON.stringify(ids) !== JSON.stringify(o.ids)) { fail('ids', r.getTokens(), o.tokens); continue; }
        if (JSON.stringify(r.getTokens()) !== JSON.stringify(o.tokens)) fail('tokens', r.getTokens(), o.tokens);
        if (JSON.stringify(r.getOffsets()) !== JSON.stringify(o.offsets)) fail('offsets', r.getOffsets(), o.offsets);
        if (JSON.stringify(r.getSpecialTokensMask()) !== JSON.stringify(o.specialTokensMask)) fail('specialMask', r.getSpecialTokensMask(), o.specialTokensMask);
        for (const skipSpecialTokens of [false, true]) {
          const want = await rust.decode(ids, skipSpecialTokens);
          const got = ours.decode(ids, { skipSpecialTokens, cleanUpTokenizationSpaces: false });
          if (want !== got) fail('decode', want, got);
        }
      }
    }
    console.log(`${name}: ${corpus.length} strings compared with the Rust tokenizers; mismatches ${JSON.stringify(counts)}`);
    expect(failures).toEqual([]);
  });
});

describe('long documents through Precompiled', () => {
  // Regression: grapheme segmentation of one 80 kB document took 15 s (V8's segment iterator is
  // quadratic on long strings), and concatenating 100k+ tokens overflowed the call stack.
  it('match the Rust tokenizers on a 200k-char multilingual document', async () => {
    const path = fixture('unigram-t5-style');
    const ours = Tokenizer.fromJSON(readFileSync(path, 'utf8'));
    const rust = RustTokenizer.fromFile(path);
    const doc = buildCorpus(3000, ['</s>'], 77).join(' ').slice(0, 200_000) + '🇯'.repeat(301) + 'a' + '\u0301'.repeat(700);
    const r = await rust.encode(doc, null, { addSpecialTokens: true });
    const o = ours.encode(doc);
    expect(o.ids.length).toBeGreaterThan(50_000);
    expect(o.ids).toEqual(r.getIds());
    expect(o.offsets).toEqual(r.getOffsets());
  });
});
