import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { BertModel, loadGPT2OrBert, parseBertConfig, rawFromTensor, type RawTensor } from '@tessera/models';
import { serializeSafetensors } from '@tessera/safetensors';
import { Generator, registerBackend } from '@tessera/tensor';
import { tokenClassificationCommand } from '../src/commands/token-classification.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const SURNAMES = ['smith', 'jones', 'brown'];
const CITIES = ['paris', 'london', 'tokyo', 'berlin', 'madrid'];
const ORGS = ['intel', 'siemens', 'unilever', 'acme'];
const FILLER = ['the', 'met', 'visited', 'works', 'at', 'in', 'today', 'and', 'moved', 'to', 'from', 'with', 'yesterday'];

/** A CoNLL-2003-style sentence: "token POS CHUNK NER" lines, entities from fixed lists in varied slots. */
function sentence(r: SeededRandom): string[] {
  const out: string[] = [];
  const add = (word: string, tag: string): number => out.push(`${word} NN O ${tag}`);
  const pick = <T,>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
  for (let k = 0; k < 3 + r.int(3); k++) {
    const kind = r.int(4);
    if (kind === 0) {
      add(pick(PEOPLE), 'B-PER');
      if (r.int(2)) add(pick(SURNAMES), 'I-PER');
    } else if (kind === 1) add(pick(CITIES), 'B-LOC');
    else if (kind === 2) add(pick(ORGS), 'B-ORG');
    add(pick(FILLER), 'O');
  }
  return out;
}

async function conllFolder(dir: string): Promise<string> {
  const r = new SeededRandom(7);
  const split = (n: number): string => `-DOCSTART- -X- -X- O\n\n${Array.from({ length: n }, () => sentence(r).join('\n')).join('\n\n')}\n`;
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'train.txt'), split(120));
  await writeFile(path.join(dir, 'validation.txt'), split(20));
  await writeFile(path.join(dir, 'test.txt'), split(30));
  return dir;
}

/** A small random BERT (BertModel weights, keys without "bert.") with a WordPiece tokenizer.json; some words split into sub-words. */
async function randomBert(dir: string): Promise<string> {
  const whole = [...PEOPLE, ...SURNAMES, ...CITIES.filter((c) => c !== 'london' && c !== 'tokyo'), ...ORGS.filter((o) => o !== 'unilever'), ...FILLER];
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...whole, 'lon', '##don', 'tok', '##yo', 'uni', '##lever', '-', 'x', '##x', 'docstart'];
  const json = { model_type: 'bert', architectures: ['BertModel'], vocab_size: vocab.length, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, hidden_act: 'gelu', max_position_embeddings: 64, type_vocab_size: 2, layer_norm_eps: 1e-12, initializer_range: 0.02, pad_token_id: 0 };
  const model = new BertModel(parseBertConfig(json), { generator: new Generator(11) });
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of model.stateDict()) raw.set(name, await rawFromTensor(t));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(json));
  await writeFile(path.join(dir, 'model.safetensors'), serializeSafetensors(raw as never));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  return dir;
}

let dir: string;
let bert: string;
let data: string;

beforeAll(async () => {
  registerBackend(createCpuBackend());
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-ner-'));
  bert = await randomBert(path.join(dir, 'bert'));
  data = await conllFolder(path.join(dir, 'conll'));
});

describe('train --task token-classification (the NER recipe)', () => {
  it('fine-tunes a random BERT on a CoNLL folder to high entity F1 and saves a loadable token-classification folder', async () => {
    const out = path.join(dir, 'run');
    const r = await tokenClassificationCommand({ model: bert, data, out, config: { lr: 5e-3, warmup: 5, epochs: 4, batch: 8, maxLength: 64, seed: 0 }, quiet: true });
    expect(r.labels).toEqual(['O', 'B-LOC', 'B-ORG', 'B-PER', 'I-PER']);
    expect(r.losses[r.losses.length - 1]!).toBeLessThan(r.losses[0]! / 4);
    expect(r.test!.seqeval.f1).toBeGreaterThan(0.9);
    expect(r.validation!.seqeval.f1).toBeGreaterThan(0.9);
    expect([...r.test!.tokenReport.labels].sort()).toEqual(['B-LOC', 'B-ORG', 'B-PER', 'I-PER', 'O']);
    const loaded = await loadGPT2OrBert(path.join(out, 'model'));
    expect(loaded.kind).toBe('bert');
    expect(loaded.model.constructor.name).toBe('BertForTokenClassification');
  });

  it('runs from the command line and prints the classification report and seqeval scores', () => {
    const out = path.join(dir, 'cli-run');
    const p = spawnSync(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', path.join(APP, 'src/cli.ts'), 'train', '--task', 'token-classification', '--model', bert, '--data', data, '--out', out, '--steps', '6', '--batch', '8', '--lr', '0.005'], { cwd: APP, encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toContain('token classification: 5 labels (O B-LOC B-ORG B-PER I-PER)');
    expect(p.stdout).toContain('seqeval (entity level):');
    expect(p.stdout).toContain('token-level classification report:');
    expect(p.stdout).toMatch(/test: loss [\d.]+, entity micro-F1 [\d.]+/);
    expect(p.stdout).toMatch(/\bPER\b.*\n/);
    expect(p.stdout).toMatch(/micro avg/);
  });

  it('names the validation file it read (dev.txt) in errors', async () => {
    const conll = path.join(dir, 'conll-dev');
    await mkdir(conll, { recursive: true });
    await copyFile(path.join(data, 'train.txt'), path.join(conll, 'train.txt'));
    await writeFile(path.join(conll, 'dev.txt'), 'alice NN O B-PER\nacme NN O B-MISC\n');
    await expect(tokenClassificationCommand({ model: bert, data: conll, out: path.join(dir, 'dev-run'), config: { steps: 1 }, quiet: true })).rejects.toThrow(`${path.join(conll, 'dev.txt')}: sentence 1 has tag "B-MISC", which train.txt never uses`);
  });

  it('refuses run-config keys and --resume, which this recipe has no use for', async () => {
    const run = (config: object, resume?: string) => tokenClassificationCommand({ model: bert, data, out: path.join(dir, 'never'), config, resume, quiet: true });
    await expect(run({ method: 'lora' })).rejects.toThrow('--task token-classification: "method" does not apply (this recipe fine-tunes every weight of a BERT model on a linear schedule, one micro-batch per step, and writes no checkpoints); remove it from the command line or config file');
    await expect(run({ r: 8, packing: true, saveEvery: 5, patience: 2 })).rejects.toThrow('"r", "packing", "saveEvery", "patience" do not apply');
    await expect(run({}, path.join(dir, 'ckpt'))).rejects.toThrow(`--task token-classification: --resume ${path.join(dir, 'ckpt')} does not apply (this recipe writes no checkpoints); remove --resume`);
    const p = spawnSync(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', path.join(APP, 'src/cli.ts'), 'train', '--task', 'token-classification', '--model', bert, '--data', data, '--out', path.join(dir, 'never'), '--dropout', '0.1'], { cwd: APP, encoding: 'utf8' });
    expect(p.status).toBe(1);
    expect(p.stderr).toContain('"dropout" does not apply');
  });
});
