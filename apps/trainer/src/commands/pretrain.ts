import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { backward } from '@tessera/autograd';
import { LlamaForCausalLM, llamaConfig, loadModel, saveModel } from '@tessera/models';
import { AdamW, LRScheduler, clipGradNorm, cosineSchedule } from '@tessera/optim';
import { Generator, tensorFromTyped, tidy } from '@tessera/tensor';
import { Tokenizer, trainBpe, type TokenizerJSON } from '@tessera/tokenizers';
import { SeededRandom } from '@tessera/datasets';
import { CHAT_TEMPLATE, END_OF_TURN, SPECIAL_TOKENS } from '../chat-format.js';
import { arithmeticDrill, copyRuns, englishCorpus, namesDrill } from '../data/english-corpus.js';
import { StepProgress } from '../progress.js';

/** Options of `pretrain` (the defaults made apps/trainer/assets/default-model). */
export interface PretrainOptions {
  out: string;
  seed: number;
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  seqLen: number;
  batch: number;
  steps: number;
  lr: number;
  paragraphs: number;
  /** The first steps read only runs of words said twice (english-corpus.ts' copyRuns), so an induction head forms before the mixed corpus. */
  copyWarmup: number;
  /** Fraction of every later step's windows drawn from the copy runs (0: the mixed corpus only). */
  copyMix: number;
  /** Fraction of each step's windows drawn from the arithmetic drill (english-corpus.ts' arithmeticDrill: every sum and difference up to 20, densely). */
  arithMix: number;
  /** Fraction of each step's windows drawn from the names drill (sentences with names, then the names with their kinds). */
  namesMix: number;
  weightDecay: number;
  warmup: number;
  /** Save the model to `<out>/step-N` every this many steps (0: only at the end). */
  saveEvery: number;
  /** Continue from the weights of an earlier `pretrain` folder made with the same seed and shape (its windows are then drawn in another order). */
  init?: string;
  quiet?: boolean;
}

export const PRETRAIN_DEFAULTS: Omit<PretrainOptions, 'out'> = { seed: 0, vocabSize: 2048, hiddenSize: 128, layers: 3, heads: 8, seqLen: 128, batch: 8, steps: 1300, lr: 2e-3, paragraphs: 40_000, copyWarmup: 0, copyMix: 0.25, arithMix: 0, namesMix: 0, weightDecay: 0, warmup: 50, saveEvery: 0 };

/** Trains a byte-level BPE tokenizer and a small Llama on the generated English corpus, and saves a Hugging Face folder. */
export async function pretrain(o: PretrainOptions): Promise<{ losses: number[]; seconds: number }> {
  const start = performance.now();
  const texts = englishCorpus(o.seed, o.paragraphs);
  // A continuation keeps the tokenizer its weights were trained with (a BPE retrained on another
  // corpus mix would renumber the tokens under the embedding).
  const init = o.init === undefined ? undefined : await initFrom(o.init);
  const tokenizer = init?.tokenizer ?? newTokenizer(texts, o);
  const eot = tokenizer.tokenToId('<|endoftext|>')!;
  // One stream of documents separated by <|endoftext|>, cut into fixed windows: no padding is wasted.
  const streamOf = (docs: string[]): number[] => {
    const stream: number[] = [];
    for (const t of docs) stream.push(...tokenizer.encode(t, { addSpecialTokens: false }).ids, eot);
    return stream;
  };
  const stream = streamOf(texts);
  const windows = Math.floor(stream.length / (o.seqLen + 1));
  // Enough copy-run windows for the warm-up and the mixed-in share to see each about once.
  const copyStream = o.copyWarmup > 0 || o.copyMix > 0 ? streamOf(copyRuns(o.seed + 2, Math.ceil(((o.copyWarmup + o.copyMix * o.steps) * o.batch * (o.seqLen + 1)) / 40))) : [];
  const copyWindows = Math.floor(copyStream.length / (o.seqLen + 1));
  // The drills: enough windows for their share of the steps to see each about once (~40 tokens a paragraph).
  const drillStream = (mix: number, make: (seed: number, count: number) => string[], seedOffset: number): number[] =>
    mix > 0 ? streamOf(make(o.seed + seedOffset, Math.ceil((mix * o.steps * o.batch * (o.seqLen + 1)) / 40))) : [];
  const arithStream = drillStream(o.arithMix, arithmeticDrill, 3);
  const namesStream = drillStream(o.namesMix, namesDrill, 4);
  const [arithWindows, namesWindows] = [arithStream, namesStream].map((s) => Math.floor(s.length / (o.seqLen + 1))) as [number, number];
  const [copyRows, arithRows, namesRows] = [o.copyMix, o.arithMix, o.namesMix].map((m) => Math.round(m * o.batch)) as [number, number, number];
  if (copyRows + arithRows + namesRows > o.batch) throw new Error(`pretrain: --copy-mix ${o.copyMix} + --arith-mix ${o.arithMix} + --names-mix ${o.namesMix} take ${copyRows + arithRows + namesRows} of ${o.batch} windows a step; keep their sum at most 1`);
  if (!o.quiet) console.log(`pretrain: corpus ${texts.length} paragraphs, ${stream.length} tokens (${windows} windows of ${o.seqLen}); copy runs: warm-up ${o.copyWarmup} steps, then ${o.copyMix} of each batch, from ${copyWindows} windows; arithmetic drill ${o.arithMix} (${arithWindows} windows), names drill ${o.namesMix} (${namesWindows} windows); vocab ${tokenizer.vocabSize}`);

  const config = llamaConfig({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: o.hiddenSize,
    intermediateSize: Math.round((o.hiddenSize * 8) / 3 / 8) * 8,
    numHiddenLayers: o.layers,
    numAttentionHeads: o.heads,
    numKeyValueHeads: o.heads,
    maxPositionEmbeddings: o.seqLen * 2,
    tieWordEmbeddings: true,
    bosTokenId: null,
    eosTokenIds: [tokenizer.tokenToId(END_OF_TURN)!],
    padTokenId: eot,
  });
  if (init) checkShape(o.init!, init.config, config);
  const model = init?.model ?? new LlamaForCausalLM(config, { generator: new Generator(o.seed) });
  const params = model.namedParameters();
  const count = params.reduce((s, [, p]) => s + p.size, 0);
  if (!o.quiet) console.log(`pretrain: Llama ${o.layers} layers, dim ${o.hiddenSize}, ${o.heads} heads, ${(count / 1e6).toFixed(2)}M parameters; ${o.steps} steps of ${o.batch}×${o.seqLen} tokens`);
  /**
   * The stream (and its window count) batch row `b` of `step` reads: the copy runs for every row of the
   * copy warm-up and for rows [0, copyRows) after it; then arithRows of the arithmetic drill, namesRows
   * of the names drill, and the corpus for the rest (and for the copy rows when there are no copy runs).
   */
  const sourceOf = (step: number, b: number): [number[], number] => {
    if (copyWindows > 0 && (step <= o.copyWarmup || b < copyRows)) return [copyStream, copyWindows];
    if (b < copyRows) return [stream, windows];
    if (b < copyRows + arithRows) return [arithStream, arithWindows];
    if (b < copyRows + arithRows + namesRows) return [namesStream, namesWindows];
    return [stream, windows];
  };
  const opt = new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay, betas: [0.9, 0.95] });
  const sched = new LRScheduler(opt, cosineSchedule(o.steps, Math.min(o.warmup, Math.floor(o.steps / 10)), 0.1));
  const order = new SeededRandom(o.seed + (o.init === undefined ? 1 : 101));
  const bar = new StepProgress('pretrain', o.steps, o.quiet);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 1; step <= o.steps; step++) {
    const ids = new Int32Array(o.batch * o.seqLen);
    for (let b = 0; b < o.batch; b++) {
      const [from, count] = sourceOf(step, b);
      const w = Math.floor(order.next() * count);
      ids.set(from.slice(w * (o.seqLen + 1), w * (o.seqLen + 1) + o.seqLen), b * o.seqLen);
    }
    opt.zeroGrad();
    const loss = tidy(() => {
      const x = tensorFromTyped(ids, [o.batch, o.seqLen], 'i32');
      const out = model.forward(x, { labels: x });
      backward(out.loss!);
      return out.loss!.dataSync()[0]!;
    });
    tidy(() => void clipGradNorm(params.map(([, p]) => p), 1.0));
    opt.step();
    sched.step();
    losses.push(loss);
    bar.update(step, loss, opt.lr, (step * o.batch * o.seqLen) / ((performance.now() - t0) / 1000));
    if (o.saveEvery > 0 && step % o.saveEvery === 0 && step < o.steps) {
      const dir = path.join(o.out, `step-${step}`);
      await mkdir(dir, { recursive: true });
      await saveModel(model, dir, { dtype: 'bf16', tokenizer, generationConfig: { eos_token_id: config.eosTokenIds[0], pad_token_id: eot, max_new_tokens: 48 } });
      await writeFile(path.join(dir, 'pretrain-log.json'), `${JSON.stringify({ step, seconds: (performance.now() - start) / 1000, losses: losses.filter((_, i) => i % 10 === 0 || i === losses.length - 1) }, null, 1)}\n`);
    }
  }
  bar.stop();
  await mkdir(o.out, { recursive: true });
  await saveModel(model, o.out, { dtype: 'bf16', tokenizer, generationConfig: { eos_token_id: config.eosTokenIds[0], pad_token_id: eot, max_new_tokens: 48 } });
  const seconds = (performance.now() - start) / 1000;
  await writeFile(path.join(o.out, 'pretrain-log.json'), `${JSON.stringify({ options: o, parameters: count, seconds, losses: losses.filter((_, i) => i % 10 === 0 || i === losses.length - 1) }, null, 1)}\n`);
  if (!o.quiet) console.log(`pretrain: final loss ${losses.at(-1)!.toFixed(3)} in ${seconds.toFixed(0)} s; wrote ${o.out}`);
  return { losses, seconds };
}

/** A byte-level BPE trained on the corpus, with the chat template and special tokens. */
function newTokenizer(texts: string[], o: PretrainOptions): Tokenizer {
  const trained = trainBpe(texts, { vocabSize: o.vocabSize, specialTokens: SPECIAL_TOKENS });
  return Tokenizer.fromJSON(trained.toJSON() as unknown as TokenizerJSON, {
    bos_token: null,
    eos_token: END_OF_TURN,
    pad_token: '<|endoftext|>',
    chat_template: CHAT_TEMPLATE,
    model_max_length: o.seqLen * 2,
    clean_up_tokenization_spaces: false,
  });
}

/** The model and tokenizer of an earlier pretrain folder. */
async function initFrom(dir: string): Promise<{ model: LlamaForCausalLM; tokenizer: Tokenizer; config: Awaited<ReturnType<typeof loadModel>>['config'] }> {
  const { model, tokenizer, config } = await loadModel(dir);
  if (!(model instanceof LlamaForCausalLM)) throw new Error(`pretrain --init ${dir}: not a Llama model folder`);
  if (!tokenizer) throw new Error(`pretrain --init ${dir}: no tokenizer.json; continue only from a folder that pretrain wrote`);
  return { model, tokenizer, config };
}

/** An --init model must have the shape this run would build. */
function checkShape(dir: string, got: ReturnType<typeof llamaConfig>, config: ReturnType<typeof llamaConfig>): void {
  for (const k of ['vocabSize', 'hiddenSize', 'numHiddenLayers', 'numAttentionHeads', 'maxPositionEmbeddings'] as const) {
    if (got[k] !== config[k]) throw new Error(`pretrain --init ${dir}: its ${k} is ${got[k]}, this run's is ${config[k]}; pass the options that made it (same --seed, --vocab-size, --hidden-size, --layers, --heads, --seq-len)`);
  }
}
