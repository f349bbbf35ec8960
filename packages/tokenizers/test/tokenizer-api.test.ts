import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.js';
import { fixtures } from './fixtures.js';

const byName = Object.fromEntries(fixtures().map((f) => [f.name, Tokenizer.fromJSON(f.json as never, f.config)]));

describe('Tokenizer API', () => {
  // Load time is a benchmark figure (benchmarks/tokenizers), not a timed test: a loaded CI machine would make it flaky.
  it('loads a 128k-vocabulary tokenizer.json from its JSON text', () => {
    const f = fixtures().find((x) => x.name === 'llama3')!;
    const tok = Tokenizer.fromJSON(JSON.stringify(f.json), f.config);
    expect(tok.vocabSize).toBe(128256);
  });

  it('exposes vocabulary lookups', () => {
    const tok = byName.llama3!;
    expect(tok.tokenToId('<|begin_of_text|>')).toBe(128000);
    expect(tok.idToToken(128000)).toBe('<|begin_of_text|>');
    expect(tok.idToToken(9906)).toBe('Hello');
    expect(byName.qwen3!.vocabSize).toBe(151669);
  });

  it('returns the attention mask and special-token mask', () => {
    const e = byName.llama2!.encode('Hello world');
    expect(e.ids).toEqual([1, 22557, 1526]);
    expect(e.tokens).toEqual(['<s>', '▁Hello', '▁world']);
    expect(e.attentionMask).toEqual([1, 1, 1]);
    expect(e.specialTokensMask).toEqual([1, 0, 0]);
    expect(e.offsets).toEqual([[0, 0], [0, 5], [5, 11]]);
  });

  it('reports offsets in code points by default and in UTF-16 units on request', () => {
    const tok = byName.llama3!;
    // The emoji's four bytes become two tokens, each spanning the whole char.
    expect(tok.encode('😀 a', { addSpecialTokens: false }).offsets).toEqual([[0, 1], [0, 1], [1, 3]]);
    expect(tok.encode('😀 a', { addSpecialTokens: false, offsetUnit: 'utf16' }).offsets).toEqual([[0, 2], [0, 2], [2, 4]]);
  });

  it('pads on the right or left and truncates', () => {
    const tok = byName.bert!;
    const [a, b] = tok.encodeBatch(['hello world', 'hi'], { padding: true });
    expect(a!.ids.length).toBe(b!.ids.length);
    expect(b!.tokens).toEqual(['[CLS]', 'hi', '[SEP]', '[PAD]']);
    expect(b!.attentionMask).toEqual([1, 1, 1, 0]);
    expect(b!.specialTokensMask).toEqual([1, 0, 1, 1]);
    const [, left] = tok.encodeBatch(['hello world', 'hi'], { padding: true, paddingSide: 'left' });
    expect(left!.tokens).toEqual(['[PAD]', '[CLS]', 'hi', '[SEP]']);
    const [t] = tok.encodeBatch(['one two three four five six'], { truncation: true, maxLength: 4 });
    expect(t!.tokens).toEqual(['[CLS]', 'one', 'two', '[SEP]']);
    const [m] = tok.encodeBatch(['hi'], { padding: 'max_length', maxLength: 6 });
    expect(m!.ids.length).toBe(6);
  });

  it('uses the padding side of tokenizer_config.json (Gemma 3 pads left)', () => {
    const [, b] = byName.gemma3!.encodeBatch(['a longer text here', 'hi'], { padding: true });
    expect(b!.attentionMask[0]).toBe(0);
  });

  it('decodes with skipSpecialTokens and the config clean-up default', () => {
    const tok = byName.llama3!;
    const ids = tok.encode('<|begin_of_text|>Hello , world !').ids;
    expect(tok.decode(ids, { cleanUpTokenizationSpaces: false })).toBe('<|begin_of_text|>Hello , world !');
    // Llama 3's tokenizer_config.json sets clean_up_tokenization_spaces: true, as transformers applies it.
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('Hello, world!');
  });

  it('round-trips through toJSON', () => {
    for (const tok of Object.values(byName)) {
      const again = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())), tok.config);
      const text = 'Round trip: 123 漢字 😀 <|im_start|> [MASK] <s>';
      expect(again.encode(text)).toEqual(tok.encode(text));
    }
  });

  it('fromFile reads tokenizer.json and the config beside it', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const f = fixtures().find((x) => x.name === 'qwen3')!;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-fromfile-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(f.json));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(f.config));
    const tok = await Tokenizer.fromFile(join(dir, 'tokenizer.json'));
    expect(tok.specialToken('eos')).toBe('<|im_end|>');
    expect(tok.encode('hello').ids).toEqual(byName.qwen3!.encode('hello').ids);
    const fromFolder = await Tokenizer.fromFile(dir);
    expect(fromFolder.specialToken('eos')).toBe('<|im_end|>');
    await expect(Tokenizer.fromFile(join(dir, 'missing.json'))).rejects.toThrow(/fromFile: cannot read .*missing.json \(ENOENT\); pass a tokenizer.json file or a model folder/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fromBlob reads Blobs (browser path)', async () => {
    const f = fixtures().find((x) => x.name === 'llama2')!;
    const tok = await Tokenizer.fromBlob(new Blob([JSON.stringify(f.json)]), new Blob([JSON.stringify(f.config)]));
    expect(tok.encode('hi').ids).toEqual(byName.llama2!.encode('hi').ids);
  });
});

describe('errors name the field, the value and the fix', () => {
  const base = fixtures().find((x) => x.name === 'bert')!.json as Record<string, any>;
  it('rejects text that is not JSON', () => {
    expect(() => Tokenizer.fromJSON('{nope')).toThrow(/tokenizer.json: not valid JSON/);
  });
  it('requires a model', () => {
    expect(() => Tokenizer.fromJSON({} as never)).toThrow(/missing field "model"/);
  });
  it('lists the supported types for an unknown component', () => {
    expect(() => Tokenizer.fromJSON({ ...base, normalizer: { type: 'Fancy' } } as never)).toThrow(/normalizer.type: unknown normalizer "Fancy"; supported: NFC, NFD/);
    expect(() => Tokenizer.fromJSON({ ...base, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Nope' }] } } as never)).toThrow(/pre_tokenizer.pretokenizers\[0\].type: unknown pre-tokenizer "Nope"; supported: ByteLevel/);
    expect(() => Tokenizer.fromJSON({ ...base, decoder: { type: 'Nope' } } as never)).toThrow(/decoder.type: unknown decoder "Nope"; supported:/);
    expect(() => Tokenizer.fromJSON({ ...base, post_processor: { type: 'X' } } as never)).toThrow(/post_processor.type: unknown post-processor "X"; supported:/);
    expect(() => Tokenizer.fromJSON({ ...base, model: { type: 'Magic' } } as never)).toThrow(/model.type: unknown model "Magic"; supported: BPE, WordPiece, Unigram, WordLevel/);
  });
  it('names bad field shapes', () => {
    expect(() => Tokenizer.fromJSON({ ...base, model: { ...base.model, vocab: [] } } as never)).toThrow(/model.vocab: expected an object mapping token to id, got an array/);
    expect(() => Tokenizer.fromJSON({ ...base, added_tokens: [{ id: 1 }] } as never)).toThrow(/added_tokens\[0\].content: expected a string/);
    expect(() => Tokenizer.fromJSON({ model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b'] } } as never)).toThrow(/model.merges\[0\]: token "b" is not in model.vocab/);
    expect(() => Tokenizer.fromJSON({ ...base, normalizer: { type: 'Replace', pattern: { Nope: 1 }, content: 'x' } } as never)).toThrow(/normalizer.pattern: expected \{ "String": string \} or \{ "Regex": string \}/);
    expect(() => Tokenizer.fromJSON({ ...base, normalizer: { type: 'Precompiled', precompiled_charsmap: null } } as never)).toThrow(/normalizer.precompiled_charsmap: expected the base64 text of a SentencePiece charsmap, got null/);
    expect(() => Tokenizer.fromJSON({ ...base, normalizer: { type: 'Precompiled', precompiled_charsmap: 'AAAAAA==' } } as never)).toThrow(/precompiled_charsmap: trie size 0 does not fit the 4-byte map/);
    expect(() => Tokenizer.fromJSON({ ...base, normalizer: { type: 'Precompiled', precompiled_charsmap: 'AA*A' } } as never)).toThrow(/precompiled_charsmap: invalid base64 char "\*" at 2/);
    expect(() => Tokenizer.fromJSON({ ...base, pre_tokenizer: { type: 'FixedLength', length: 0 } } as never)).toThrow(/pre_tokenizer.length: expected a positive integer number of chars, got 0/);
  });
});

describe("tokenizer.json's own truncation and padding apply as in the Rust library", () => {
  const base = fixtures().find((x) => x.name === 'bert')!.json as Record<string, any>;
  const texts = ['hello world', 'one two three four five six seven eight nine ten eleven twelve', 'a', 'The quick brown fox jumps over the lazy dog again and again', ''];
  const variants: Record<string, { truncation: unknown; padding: unknown }> = {
    'LongestFirst right, Fixed 16 left': {
      truncation: { max_length: 12, strategy: 'LongestFirst', direction: 'Right', stride: 0 },
      padding: { strategy: { Fixed: 16 }, direction: 'Left', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' },
    },
    'LongestFirst left, BatchLongest multiple of 8': {
      truncation: { max_length: 10, strategy: 'LongestFirst', direction: 'Left', stride: 0 },
      padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: 8, pad_id: 0, pad_type_id: 1, pad_token: '[PAD]' },
    },
    'OnlyFirst, no padding': { truncation: { max_length: 14, strategy: 'OnlyFirst', direction: 'Right', stride: 0 }, padding: null },
  };
  it.each(Object.entries(variants))('%s', async (_name, v) => {
    const { Tokenizer: RustTokenizer } = await import('@anush008/tokenizers');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const json = { ...base, ...v };
    const dir = mkdtempSync(join(tmpdir(), 'tessera-trunc-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const rust = RustTokenizer.fromFile(join(dir, 'tokenizer.json'));
    const ours = Tokenizer.fromJSON(json as never);
    const same = (o: ReturnType<Tokenizer['encode']>, r: Awaited<ReturnType<typeof rust.encode>>, what: string): void => {
      expect(o.ids, what).toEqual(r.getIds());
      expect(o.attentionMask, what).toEqual(r.getAttentionMask());
      expect(o.typeIds, what).toEqual(r.getTypeIds());
      expect(o.specialTokensMask, what).toEqual(r.getSpecialTokensMask());
      expect(o.offsets, what).toEqual(r.getOffsets());
    };
    for (const t of texts) same(ours.encode(t), await rust.encode(t, null, { addSpecialTokens: true }), t);
    for (let i = 0; i + 1 < texts.length; i++) {
      const r = await rust.encode(texts[i]!, texts[i + 1]!, { addSpecialTokens: true }).catch(() => null);
      if (r === null) {
        expect(() => ours.encode(texts[i]!, { pair: texts[i + 1]! }), `${texts[i]} + ${texts[i + 1]}`).toThrow(/truncation: the first sequence is too short/);
        continue;
      }
      same(ours.encode(texts[i]!, { pair: texts[i + 1]! }), r, `${texts[i]} + ${texts[i + 1]}`);
    }
    const rb = await rust.encodeBatch(texts, { addSpecialTokens: true });
    ours.encodeBatch(texts).forEach((o, k) => same(o, rb[k]!, `batch ${texts[k]}`));
    rmSync(dir, { recursive: true, force: true });
  });

  it('names a malformed truncation or padding', () => {
    expect(() => Tokenizer.fromJSON({ ...base, truncation: { max_length: 'x' } } as never)).toThrow(/truncation: expected null or \{ "max_length": n/);
    expect(() => Tokenizer.fromJSON({ ...base, padding: { strategy: 'Longest' } } as never)).toThrow(/padding.strategy: expected "BatchLongest" or \{ "Fixed": n \}, got "Longest"/);
  });
});

describe('loading paths', () => {
  it('fromURL fetches tokenizer.json and tokenizer_config.json (served over HTTP here)', async () => {
    const { createServer } = await import('node:http');
    const f = fixtures().find((x) => x.name === 'llama2')!;
    const server = createServer((req, res) => {
      if (req.url === '/tokenizer.json') res.end(JSON.stringify(f.json));
      else if (req.url === '/tokenizer_config.json') res.end(JSON.stringify(f.config));
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as { port: number };
    try {
      const tok = await Tokenizer.fromURL(`http://127.0.0.1:${port}/tokenizer.json`, `http://127.0.0.1:${port}/tokenizer_config.json`);
      expect(tok.encode('Hello world').ids).toEqual(byName.llama2!.encode('Hello world').ids);
      expect(tok.specialToken('bos')).toBe('<s>');
      await expect(Tokenizer.fromURL(`http://127.0.0.1:${port}/missing.json`)).rejects.toThrow(/fromURL: GET .*missing.json answered 404; check the address/);
    } finally {
      server.close();
    }
  });

  it('toJSON of the newer components writes files the Rust library loads and encodes identically', async () => {
    const { Tokenizer: RustTokenizer } = await import('@anush008/tokenizers');
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const t5 = JSON.parse(readFileSync(new URL('./fixtures/unigram-t5-style.tokenizer.json', import.meta.url), 'utf8')) as Record<string, any>;
    const files = [
      t5,
      { ...t5, normalizer: { type: 'Sequence', normalizers: [{ type: 'Nmt' }, t5.normalizer.normalizers[0]] }, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'UnicodeScripts' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true }] }, truncation: { max_length: 9, strategy: 'LongestFirst', direction: 'Left', stride: 0 } },
      { ...(fixtures().find((x) => x.name === 'llama3')!.json as Record<string, any>), normalizer: { type: 'ByteLevel' }, pre_tokenizer: null, decoder: { type: 'CTC', pad_token: '<pad>', word_delimiter_token: '|', cleanup: false } },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'tessera-tojson-'));
    try {
      for (const [k, json] of files.entries()) {
        const ours = Tokenizer.fromJSON(json as never);
        const path = join(dir, `t${k}.json`);
        writeFileSync(path, JSON.stringify(ours.toJSON()));
        const rust = RustTokenizer.fromFile(path);
        for (const s of ['Hello  ｗｏｒｌｄ ﬁne', '漢字かな ok', ' x\u0001y ①']) {
          const r = await rust.encode(s, null, { addSpecialTokens: true });
          expect(ours.encode(s).ids, `${k}: ${s}`).toEqual(r.getIds());
          expect(ours.decode(r.getIds())).toBe(await rust.decode(r.getIds(), false));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
