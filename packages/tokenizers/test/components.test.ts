import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.js';
import { buildCorpus } from './corpus.js';
import { bertFixture, fixtures } from './fixtures.js';

// Pipelines the five real files do not exercise, assembled from their vocabularies and held to
// the Rust library on part of the corpus.
const bert = bertFixture().json as Record<string, any>;
const llama3 = fixtures().find((f) => f.name === 'llama3')!.json as Record<string, any>;
const bertRaw = Object.keys(bert.model.vocab as Record<string, number>);
const corpus = buildCorpus(600, ['[MASK]', '<mask>', 'hello'], 99);

const added = (content: string, id: number, o: Record<string, boolean> = {}): Record<string, unknown> => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...o });

const variants: Record<string, Record<string, unknown>> = {
  'NFKC + Lowercase + Strip, Whitespace': { ...bert, normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Strip', strip_left: true, strip_right: true }] }, pre_tokenizer: { type: 'Whitespace' } },
  'NFD + StripAccents + Lowercase, WhitespaceSplit + Punctuation + Digits': {
    ...bert,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }, { type: 'Digits', individual_digits: true }] },
  },
  'Replace regex, Punctuation merged + Digits contiguous, BertProcessing': {
    ...bert,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }, { type: 'NFKD' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'MergedWithPrevious' }, { type: 'Digits', individual_digits: false }, { type: 'WhitespaceSplit' }, { type: 'Split', pattern: { String: 'o' }, behavior: 'MergedWithNext', invert: false }] },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] },
  },
  'added tokens: lstrip, rstrip, single_word, normalized': {
    ...bert,
    added_tokens: [
      ...(bert.added_tokens as unknown[]),
      added('<mask>', 30522, { lstrip: true, rstrip: true }),
      added('hello', 30523, { single_word: true, normalized: true, special: false }),
      added('MASK', 30524, { normalized: true, special: false }),
    ],
  },
  'Unigram + Metaspace + NFKC': {
    version: '1.0',
    added_tokens: [added('<unk>', 0)],
    normalizer: { type: 'NFKC' },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 0, byte_fallback: false, vocab: [['<unk>', 0], ['▁', -2], ...bertRaw.filter((t) => !t.startsWith('[')).map((t, i) => [t.startsWith('##') ? t.slice(2) : '▁' + t, -3 - Math.log(1 + i)])] },
  },
  'byte-level BPE with prefix space and RobertaProcessing': {
    ...llama3,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['<|end_of_text|>', 128001], cls: ['<|begin_of_text|>', 128000], trim_offsets: true, add_prefix_space: true },
  },
  'byte-level BPE, ByteLevel post-processor trimming offsets, Metaspace-free decoders': {
    ...llama3,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  },
};

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function save(json: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-components-'));
  tempDirs.push(dir);
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe.each(Object.entries(variants))('%s', (_name, json) => {
  it('matches the Rust tokenizers', async () => {
    const ours = Tokenizer.fromJSON(json as never);
    const rust = RustTokenizer.fromFile(save(json));
    for (const text of corpus) {
      const r = await rust.encode(text, null, { addSpecialTokens: true });
      const o = ours.encode(text);
      expect(o.tokens, JSON.stringify(text)).toEqual(r.getTokens());
      expect(o.ids, JSON.stringify(text)).toEqual(r.getIds());
      expect(o.offsets, JSON.stringify(text)).toEqual(r.getOffsets());
      expect(o.typeIds).toEqual(r.getTypeIds());
      expect(o.specialTokensMask).toEqual(r.getSpecialTokensMask());
      expect(ours.decode(o.ids)).toBe(await rust.decode(r.getIds(), false));
      expect(ours.decode(o.ids, { skipSpecialTokens: true })).toBe(await rust.decode(r.getIds(), true));
    }
  });
});

describe('pairs', () => {
  it('encode with a second sequence matches the Rust tokenizers (template and type ids)', async () => {
    const ours = Tokenizer.fromJSON(bert as never);
    const rust = RustTokenizer.fromFile(save(bert));
    for (let i = 0; i + 1 < 200; i += 2) {
      const r = await rust.encode(corpus[i]!, corpus[i + 1]!, { addSpecialTokens: true });
      const o = ours.encode(corpus[i]!, { pair: corpus[i + 1]! });
      expect(o.ids).toEqual(r.getIds());
      expect(o.typeIds).toEqual(r.getTypeIds());
      expect(o.offsets).toEqual(r.getOffsets());
    }
  });
});
