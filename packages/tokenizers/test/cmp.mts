import { Tokenizer as Rust } from '@anush008/tokenizers';
import { Tokenizer } from '../src/index.ts';
import { fixtures, writeFixture } from './fixtures.ts';
import { buildCorpus } from './corpus.ts';
const which = process.argv[2];
const N = Number(process.argv[3] ?? 5000);
for (const f of fixtures()) {
  if (which && f.name !== which) continue;
  let t0 = performance.now();
  const ours = Tokenizer.fromJSON(f.json as any, f.config as any);
  const loadMs = performance.now() - t0;
  const rust = Rust.fromFile(writeFixture(f));
  const specials = (f.json.added_tokens as any[]).filter((t) => t.special).slice(0, 8).map((t) => t.content);
  const corpus = buildCorpus(N, specials);
  let bad = 0, badOff = 0, badDec = 0, badTok = 0, badMask = 0;
  for (const s of corpus) {
    for (const add of [true]) {
      const r = await rust.encode(s, null, { addSpecialTokens: add });
      let o;
      try { o = ours.encode(s, { addSpecialTokens: add }); } catch (e) { console.log('THROW', JSON.stringify(s).slice(0, 100), e); bad++; continue; }
      const rIds = r.getIds();
      if (JSON.stringify(rIds) !== JSON.stringify(o.ids)) {
        if (bad++ < 5) console.log('IDS', f.name, JSON.stringify(s).slice(0, 200), '\n rust', JSON.stringify(r.getTokens()).slice(0, 400), '\n ours', JSON.stringify(o.tokens).slice(0, 400));
        continue;
      }
      if (JSON.stringify(r.getTokens()) !== JSON.stringify(o.tokens)) { if (badTok++ < 3) console.log('TOK', JSON.stringify(s).slice(0,100), JSON.stringify(r.getTokens()).slice(0,300), JSON.stringify(o.tokens).slice(0,300)); }
      if (JSON.stringify(r.getSpecialTokensMask()) !== JSON.stringify(o.specialTokensMask)) { if (badMask++ < 3) console.log('MASK', JSON.stringify(s).slice(0,100)); }
      if (JSON.stringify(r.getOffsets()) !== JSON.stringify(o.offsets)) {
        if (badOff++ < 5) console.log('OFF', f.name, JSON.stringify(s).slice(0, 200), '\n rust', JSON.stringify(r.getOffsets()).slice(0, 300), '\n ours', JSON.stringify(o.offsets).slice(0, 300), JSON.stringify(o.tokens).slice(0,300));
      }
      for (const skip of [false, true]) {
        const rd = await rust.decode(rIds, skip);
        const od = ours.decode(rIds, { skipSpecialTokens: skip, cleanUpTokenizationSpaces: false });
        if (rd !== od) { if (badDec++ < 5) console.log('DEC', f.name, skip, JSON.stringify(s).slice(0, 200), '\n rust', JSON.stringify(rd).slice(0, 300), '\n ours', JSON.stringify(od).slice(0, 300)); }
      }
    }
  }
  console.log(`${f.name}: load ${loadMs.toFixed(0)} ms, ${corpus.length} strings, ids mismatches ${bad}, offsets ${badOff}, tokens ${badTok}, mask ${badMask}, decode ${badDec}`);
}
