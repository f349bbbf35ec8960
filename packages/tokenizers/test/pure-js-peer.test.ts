import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.js';
import { buildCorpus } from './corpus.js';
import { fixtures, writeFixture } from './fixtures.js';

// Where the pure-JS @huggingface/tokenizers disagrees with the Rust library, the Rust library is
// right: this records how often the pure-JS peer differs and checks we side with Rust there.
describe.each(fixtures().map((f) => [f.name, f] as const))('%s where the pure-JS peer differs', (name, fixture) => {
  it('sides with the Rust tokenizers', async () => {
    const ours = Tokenizer.fromJSON(fixture.json as never, fixture.config);
    const hf = new HfTokenizer(fixture.json, fixture.config);
    const rust = RustTokenizer.fromFile(writeFixture(fixture));
    const specials = (fixture.json.added_tokens as Array<{ content: string; special: boolean }>).filter((t) => t.special).slice(0, 8).map((t) => t.content);
    let differs = 0;
    const corpus = buildCorpus(1000, specials, 77);
    for (const text of corpus) {
      const want = (await rust.encode(text, null, { addSpecialTokens: true })).getIds();
      const peer = hf.encode(text).ids;
      if (JSON.stringify(peer) === JSON.stringify(want)) continue;
      differs++;
      expect(ours.encode(text).ids, JSON.stringify(text)).toEqual(want);
    }
    console.log(`${name}: @huggingface/tokenizers differs from Rust on ${differs}/${corpus.length} strings; @tessera/tokenizers agrees with Rust on all of them`);
  });
});
