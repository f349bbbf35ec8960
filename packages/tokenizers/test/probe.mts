import { Tokenizer as Rust } from '@anush008/tokenizers';
import { fixtures, writeFixture } from './fixtures.ts';
const f = fixtures().find((x) => x.name === (process.argv[2] ?? 'bert'))!;
const rust = Rust.fromFile(writeFixture(f));
for (const s of JSON.parse(process.argv[3]!)) {
  const r = await rust.encode(s, null, { addSpecialTokens: false });
  console.log(JSON.stringify(s), JSON.stringify(r.getTokens()), JSON.stringify(r.getOffsets()));
}
