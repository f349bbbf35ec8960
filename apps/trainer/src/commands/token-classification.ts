import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { backward, noGrad } from '@tessera/autograd';
import { alignTokenLabels, padCollate, readConll, type AlignedTokenLabels, type ConllSentence } from '@tessera/datasets';
import { classificationReport, formatClassificationReport, formatSeqevalReport, seqeval, type SeqevalResult } from '@tessera/metrics';
import { BertForTokenClassification, parseBertConfig, rawFromTensor, readModelFolder, tensorFromRaw, type RawTensor } from '@tessera/models';
import { AdamW, LRScheduler, clipGradNorm, linearSchedule } from '@tessera/optim';
import { serializeSafetensors } from '@tessera/safetensors';
import { Generator, isTensor, tensorFromTyped, tidy } from '@tessera/tensor';
import type { Tokenizer } from '@tessera/tokenizers';
import { RUN_CONFIG_DEFAULTS, type RunConfig } from '../config/run-config.js';
import { reportJson } from './eval.js';
import { StepProgress } from '../progress.js';
import { RunFolder } from '../run-folder.js';
import { useComputeBackend } from '../compute-backend.js';
import { epochOrder } from '../train-loop.js';

/** What `train --task token-classification` needs. */
export interface TokenClassificationOptions {
  model: string;
  data: string;
  out: string;
  /** The run-config keys the user set (config file and flags); the others take RUN_CONFIG_DEFAULTS. Keys this recipe has no use for are refused. */
  config: Partial<RunConfig>;
  /** Refused: this recipe writes no checkpoints. */
  resume?: string;
  quiet?: boolean;
}

/**
 * Run-config keys that do nothing here: the recipe fine-tunes every weight (no LoRA), on a linear
 * schedule, one micro-batch per step, from CoNLL text (no chat template, packing or bad-line
 * skipping), and writes no checkpoints.
 */
const NOT_APPLICABLE: ReadonlyArray<keyof RunConfig> = ['method', 'r', 'alpha', 'dropout', 'targets', 'schedule', 'gradAccumulation', 'packing', 'trainOnInputs', 'saveEvery', 'patience', 'onBadLine'];

/** Metrics of one split: seqeval entity scores and the token-level (word-level) classification report. */
export interface TokenClassificationMetrics {
  loss: number;
  seqeval: SeqevalResult;
  tokenReport: ReturnType<typeof classificationReport>;
}

/** The CoNLL splits of a folder: train.txt, validation.txt (or dev.txt / valid.txt), test.txt, and the file each was read from (null when absent). */
export async function readConllFolder(dir: string): Promise<{ train: ConllSentence[]; validation: ConllSentence[]; test: ConllSentence[]; files: { train: string; validation: string | null; test: string | null } }> {
  const pick = (names: string[]): string | null => names.map((n) => path.join(dir, n)).find((p) => existsSync(p)) ?? null;
  const read = async (file: string | null): Promise<ConllSentence[]> => {
    const out: ConllSentence[] = [];
    if (file) for await (const s of readConll(file)) out.push(s);
    return out;
  };
  const trainFile = pick(['train.txt']);
  if (!trainFile) throw new Error(`--data ${dir}: no train.txt; a CoNLL folder holds train.txt and optionally validation.txt (or dev.txt) and test.txt, one "token ... TAG" per line, blank lines between sentences`);
  const files = { train: trainFile, validation: pick(['validation.txt', 'dev.txt', 'valid.txt']), test: pick(['test.txt']) };
  return { train: await read(files.train), validation: await read(files.validation), test: await read(files.test), files };
}

// Tag sets in the usual order: O first, then by entity type, B- before I-.
function labelList(sentences: ConllSentence[]): string[] {
  const tags = [...new Set(sentences.flatMap((s) => s.tags))];
  const key = (t: string): string => (t === 'O' ? '' : `${t.slice(2)}-${t[0]}`);
  return tags.sort((a, b) => key(a).localeCompare(key(b)));
}

/**
 * A Hugging Face BERT folder as BertForTokenClassification with `labels.length` classes: encoder
 * weights from the folder (keys with or without the "bert." prefix; MLM/NSP heads and the pooler are
 * ignored), a new classifier unless the folder has one of the right shape.
 */
async function loadBertForTokens(dir: string, labels: string[], seed: number): Promise<{ model: BertForTokenClassification; tokenizer: Tokenizer; configJson: Record<string, unknown> }> {
  const files = await readModelFolder(dir);
  try {
    if (files.config.model_type !== 'bert') throw new Error(`--model ${dir}: model_type is ${JSON.stringify(files.config.model_type)}; --task token-classification fine-tunes a BERT-style model (model_type "bert")`);
    if (!files.tokenizer) throw new Error(`--model ${dir}: no tokenizer.json; token classification needs the model's WordPiece tokenizer`);
    const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
    const configJson = { ...files.config, architectures: ['BertForTokenClassification'], num_labels: labels.length, id2label, label2id: Object.fromEntries(labels.map((l, i) => [l, i])) };
    const model = new BertForTokenClassification(parseBertConfig(configJson), { generator: new Generator(seed) });
    for (const [name, target] of model.stateDict()) {
      const entry = files.weights.get(name) ?? files.weights.get(name.replace(/^bert\./, ''));
      if (!entry) {
        if (name.startsWith('classifier.')) continue;
        throw new Error(`--model ${dir}: no weight "${name}" (nor "${name.replace(/^bert\./, '')}") in the folder; is it a BERT checkpoint of this config?`);
      }
      if (entry.shape.join(',') !== target.shape.join(',')) {
        if (name.startsWith('classifier.')) continue; // a head for another label set: start a new one
        throw new Error(`--model ${dir}: "${name}" has shape [${entry.shape}] but config.json implies [${target.shape}]`);
      }
      const value = await entry.read();
      const t = isTensor(value) ? value : tensorFromRaw(name, value, { dtype: target.dtype });
      target.assign(t.dtype === target.dtype ? t : t.cast(target.dtype));
    }
    return { model, tokenizer: files.tokenizer, configJson };
  } finally {
    await files.close();
  }
}

type Aligned = AlignedTokenLabels & { words: string[]; tags: string[] };

function align(tokenizer: Tokenizer, sentences: ConllSentence[], labelToId: Map<string, number>, maxLength: number, where: string): Aligned[] {
  return sentences.map((s, i) => {
    for (const t of s.tags) if (!labelToId.has(t)) throw new Error(`${where}: sentence ${i + 1} has tag "${t}", which train.txt never uses (tags: ${[...labelToId.keys()].join(', ')})`);
    return { ...alignTokenLabels(tokenizer, s.tokens, s.tags, { labelToId, maxLength }), words: s.tokens, tags: s.tags };
  });
}

function batchOf(rows: Aligned[], padId: number): { ids: ReturnType<typeof tensorFromTyped>; mask: ReturnType<typeof tensorFromTyped>; labels: ReturnType<typeof tensorFromTyped>; shape: [number, number] } {
  const b = padCollate(rows, { padId });
  return { ids: tensorFromTyped(b.inputIds, b.shape, 'i32'), mask: tensorFromTyped(Int32Array.from(b.attentionMask), b.shape, 'i32'), labels: tensorFromTyped(b.labels, b.shape, 'i32'), shape: b.shape };
}

/** Predicts a tag per word (from its first sub-token, as the labels were aligned) and scores a split. */
export async function evaluateTokens(model: BertForTokenClassification, rows: Aligned[], labels: string[], padId: number, batchSize = 16): Promise<TokenClassificationMetrics & { predictions: string[][] }> {
  model.eval();
  const predictions: string[][] = [];
  let lossSum = 0;
  let lossTokens = 0;
  for (let i = 0; i < rows.length; i += batchSize) {
    const chunk = rows.slice(i, i + batchSize);
    const out = noGrad(() =>
      tidy(() => {
        const b = batchOf(chunk, padId);
        const r = model.forward(b.ids, { attentionMask: b.mask, labels: b.labels });
        return { logits: r.logits, loss: r.loss! };
      }),
    );
    const [logits, loss] = [await out.logits.data(), (await out.loss.data())[0]!];
    const [, t, c] = out.logits.shape as [number, number, number];
    out.logits.dispose();
    out.loss.dispose();
    const n = chunk.reduce((s, r) => s + r.labels.filter((l) => l !== -100).length, 0);
    lossSum += loss * n;
    lossTokens += n;
    chunk.forEach((r, k) => {
      const tags = r.words.map(() => 'O');
      r.labels.forEach((l, j) => {
        if (l === -100) return;
        let best = 0;
        for (let q = 1; q < c; q++) if (logits[(k * t + j) * c + q]! > logits[(k * t + j) * c + best]!) best = q;
        tags[r.wordIds[j]!] = labels[best]!;
      });
      predictions.push(tags);
    });
  }
  const gold = rows.map((r) => r.tags);
  return { loss: lossSum / Math.max(1, lossTokens), seqeval: seqeval(gold, predictions), tokenReport: classificationReport(gold.flat(), predictions.flat()), predictions };
}

/** Prints a split's seqeval entity scores and token-level report. */
function formatTokenMetrics(name: string, m: TokenClassificationMetrics): string {
  return [`${name}: loss ${m.loss.toFixed(4)}, entity micro-F1 ${m.seqeval.f1.toFixed(3)} (precision ${m.seqeval.precision.toFixed(3)}, recall ${m.seqeval.recall.toFixed(3)}), token accuracy ${m.seqeval.accuracy.toFixed(3)}`, '', 'seqeval (entity level):', formatSeqevalReport(m.seqeval, 3), '', 'token-level classification report:', formatClassificationReport(m.tokenReport, { digits: 3 })].join('\n');
}

/**
 * `train --task token-classification`: fine-tunes all weights of a BERT-style model with a
 * token-classification head on a CoNLL folder (AdamW, linear schedule with warmup, first sub-token
 * labelled), evaluates validation each epoch and test at the end, and saves a Hugging Face folder.
 */
export async function tokenClassificationCommand(o: TokenClassificationOptions): Promise<{ losses: number[]; validation?: TokenClassificationMetrics; test?: TokenClassificationMetrics; labels: string[] }> {
  const given = NOT_APPLICABLE.filter((k) => o.config[k] !== undefined);
  if (given.length) throw new Error(`--task token-classification: ${given.map((k) => `"${k}"`).join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply (this recipe fine-tunes every weight of a BERT model on a linear schedule, one micro-batch per step, and writes no checkpoints); remove ${given.length === 1 ? 'it' : 'them'} from the command line or config file`);
  if (o.resume) throw new Error(`--task token-classification: --resume ${o.resume} does not apply (this recipe writes no checkpoints); remove --resume`);
  const cfg: RunConfig = { ...RUN_CONFIG_DEFAULTS, ...o.config };
  const log = (s: string): void => void (o.quiet || console.log(s));
  log(await useComputeBackend(cfg.backend));
  const splits = await readConllFolder(o.data);
  if (splits.train.length === 0) throw new Error(`--data ${o.data}: ${splits.files.train} holds no sentences`);
  const labels = labelList(splits.train);
  const labelToId = new Map(labels.map((l, i) => [l, i]));
  const { model, tokenizer, configJson } = await loadBertForTokens(o.model, labels, cfg.seed);
  const padId = tokenizer.tokenToId('[PAD]') ?? 0;
  const train = align(tokenizer, splits.train, labelToId, cfg.maxLength, splits.files.train);
  const validation = align(tokenizer, splits.validation, labelToId, cfg.maxLength, splits.files.validation ?? '');
  const test = align(tokenizer, splits.test, labelToId, cfg.maxLength, splits.files.test ?? '');
  log(`token classification: ${labels.length} labels (${labels.join(' ')}); ${train.length} train / ${validation.length} validation / ${test.length} test sentences`);
  const stepsPerEpoch = Math.ceil(train.length / cfg.batch);
  const steps = cfg.steps > 0 ? cfg.steps : Math.max(1, Math.ceil(cfg.epochs * stepsPerEpoch));
  const run = await new RunFolder(o.out).create();
  const params = model.namedParameters().map(([, p]) => p);
  const optimizer = new AdamW(model.namedParameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const scheduler = new LRScheduler(optimizer, linearSchedule(steps, cfg.warmup));
  const bar = new StepProgress('train', steps, o.quiet);
  const losses: number[] = [];
  let epoch = 0;
  let order = epochOrder(train.length, cfg.seed, epoch);
  let index = 0;
  const t0 = performance.now();
  let tokensSeen = 0;
  let lastValidation: TokenClassificationMetrics | undefined;
  for (let step = 1; step <= steps; step++) {
    model.train();
    const rows: Aligned[] = [];
    while (rows.length < Math.min(cfg.batch, train.length)) {
      if (index >= order.length) (order = epochOrder(train.length, cfg.seed, ++epoch)), (index = 0);
      rows.push(train[order[index++]!]!);
    }
    optimizer.zeroGrad();
    const loss = tidy(() => {
      const b = batchOf(rows, padId);
      // Real input tokens, as the bar's "input tok/s" says: padding is not counted.
      tokensSeen += rows.reduce((n, r) => n + r.inputIds.length, 0);
      const l = model.forward(b.ids, { attentionMask: b.mask, labels: b.labels }).loss!;
      backward(l);
      return l;
    });
    const value = (await loss.data())[0]!;
    loss.dispose();
    if (cfg.maxGradNorm > 0) tidy(() => void clipGradNorm(params, cfg.maxGradNorm));
    const lr = optimizer.lr;
    optimizer.step();
    scheduler.step();
    losses.push(value);
    const seconds = (performance.now() - t0) / 1000;
    bar.update(step, value, lr, tokensSeen / seconds);
    await run.metric({ phase: 'train', step, loss: value, lr, seconds });
    const endOfEpoch = step % stepsPerEpoch === 0 || step === steps;
    if (validation.length && ((cfg.evalEvery > 0 && step % cfg.evalEvery === 0) || (cfg.evalEvery === 0 && endOfEpoch))) {
      lastValidation = await evaluateTokens(model, validation, labels, padId);
      await run.metric({ phase: 'validation', step, loss: lastValidation.loss, entityF1: lastValidation.seqeval.f1 });
    }
  }
  bar.stop();
  if (lastValidation) log(`\n${formatTokenMetrics('validation', lastValidation)}`);
  const testMetrics = test.length ? await evaluateTokens(model, test, labels, padId) : undefined;
  if (testMetrics) log(`\n${formatTokenMetrics('test', testMetrics)}`);
  // The fine-tuned model as a Hugging Face folder that loadGPT2OrBert (and transformers) read back.
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of model.stateDict()) raw.set(name, await rawFromTensor(t));
  await run.write('model/config.json', `${JSON.stringify(configJson, null, 2)}\n`);
  await run.write('model/model.safetensors', serializeSafetensors(raw as never));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) if (existsSync(path.join(o.model, f))) await run.write(`model/${f}`, await readFile(path.join(o.model, f)));
  const summary = { task: 'token-classification', model: o.model, data: o.data, labels, steps, seconds: (performance.now() - t0) / 1000, finalLoss: losses.at(-1), validation: lastValidation && { loss: lastValidation.loss, entityF1: lastValidation.seqeval.f1 }, test: testMetrics && { loss: testMetrics.loss, entity: { precision: testMetrics.seqeval.precision, recall: testMetrics.seqeval.recall, f1: testMetrics.seqeval.f1 }, tokenReport: reportJson(testMetrics.tokenReport) } };
  await run.write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  log(`wrote ${o.out}`);
  return { losses, validation: lastValidation, test: testMetrics, labels };
}
