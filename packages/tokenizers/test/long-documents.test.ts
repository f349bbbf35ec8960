import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.js';
import { buildCorpus, rng } from './corpus.js';
import { fixtures, writeFixture } from './fixtures.js';

// Documents far longer than the BPE cache's word limit, where SentencePiece-style words are cut
// before ▁ (and byte-level pieces are cached): the cut must never change the result.
const r = rng(4242);
const parts = buildCorpus(3000, [], 31);
const docs = Array.from({ length: 150 }, () => {
  let d = '';
  while (d.length < 300 + r() * 4000) d += parts[Math.floor(r() * parts.length)] + (r() < 0.2 ? '<b> </b> x >  </i>' : r() < 0.5 ? ' ' : '\n');
  return d;
});

describe.each(fixtures().filter((f) => f.name !== 'bert').map((f) => [f.name, f] as const))('%s long documents', (_name, fixture) => {
  it('match the Rust tokenizers', async () => {
    const ours = Tokenizer.fromJSON(fixture.json as never, fixture.config);
    const rust = RustTokenizer.fromFile(writeFixture(fixture));
    for (const d of docs) {
      const want = await rust.encode(d, null, { addSpecialTokens: true });
      const got = ours.encode(d);
      expect(got.ids).toEqual(want.getIds());
      expect(got.offsets).toEqual(want.getOffsets());
    }
  });
});
