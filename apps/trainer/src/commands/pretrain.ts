import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { backward } from '@tessera/autograd';
import { LlamaForCausalLM, llamaConfig, saveModel } from '@tessera/models';
import { AdamW, LRScheduler, clipGradNorm, cosineSchedule } from '@tessera/optim';
import { Generator, tensorFromTyped, tidy } from '@tessera/tensor';
import { Tokenizer, trainBpe, type TokenizerJSON } from '@tessera/tokenizers';
import { SeededRandom } from '@tessera/datasets';
import { CHAT_TEMPLATE, END_OF_TURN, SPECIAL_TOKENS } from '../chat-format.js';
import { englishCorpus } from '../data/english-corpus.js';
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
  quiet?: boolean;
}

export const PRETRAIN_DEFAULTS: Omit<PretrainOptions, 'out'> = { seed: 0, vocabSize: 2048, hiddenSize: 128, layers: 3, heads: 4, seqLen: 64, batch: 16, steps: 500, lr: 5e-3, paragraphs: 40_000 };

/** Trains a byte-level BPE tokenizer and a small Llama on the generated English corpus, and saves a Hugging Face folder. */
export async function pretrain(o: PretrainOptions): Promise<{ losses: number[]; seconds: number }> {
  const start = performance.now();
  const texts = englishCorpus(o.seed, o.paragraphs);
  const trained = trainBpe(texts, { vocabSize: o.vocabSize, specialTokens: SPECIAL_TOKENS });
  const tokenizer = Tokenizer.fromJSON(trained.toJSON() as unknown as TokenizerJSON, {
    bos_token: null,
    eos_token: END_OF_TURN,
    pad_token: '<|endoftext|>',
    chat_template: CHAT_TEMPLATE,
    model_max_length: o.seqLen * 2,
    clean_up_tokenization_spaces: false,
  });
  const eot = tokenizer.tokenToId('<|endoftext|>')!;
  // One stream of documents separated by <|endoftext|>, cut into fixed windows: no padding is wasted.
  const stream: number[] = [];
  for (const t of texts) stream.push(...tokenizer.encode(t, { addSpecialTokens: false }).ids, eot);
  const windows = Math.floor(stream.length / (o.seqLen + 1));
  if (!o.quiet) console.log(`pretrain: corpus ${texts.length} paragraphs, ${stream.length} tokens (${windows} windows of ${o.seqLen}); vocab ${tokenizer.vocabSize}`);

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
  const model = new LlamaForCausalLM(config, { generator: new Generator(o.seed) });
  const params = model.namedParameters();
  const count = params.reduce((s, [, p]) => s + p.size, 0);
  if (!o.quiet) console.log(`pretrain: Llama ${o.layers} layers, dim ${o.hiddenSize}, ${o.heads} heads, ${(count / 1e6).toFixed(2)}M parameters; ${o.steps} steps of ${o.batch}×${o.seqLen} tokens`);
  const opt = new AdamW(params, { lr: o.lr, weightDecay: 0.1, betas: [0.9, 0.95] });
  const sched = new LRScheduler(opt, cosineSchedule(o.steps, Math.min(20, Math.floor(o.steps / 10)), 0.1));
  const order = new SeededRandom(o.seed + 1);
  const bar = new StepProgress('pretrain', o.steps, o.quiet);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 1; step <= o.steps; step++) {
    const ids = new Int32Array(o.batch * o.seqLen);
    for (let b = 0; b < o.batch; b++) {
      const w = Math.floor(order.next() * windows);
      ids.set(stream.slice(w * (o.seqLen + 1), w * (o.seqLen + 1) + o.seqLen), b * o.seqLen);
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
  }
  bar.stop();
  await mkdir(o.out, { recursive: true });
  await saveModel(model, o.out, { dtype: 'bf16', tokenizer, generationConfig: { eos_token_id: config.eosTokenIds[0], pad_token_id: eot, max_new_tokens: 48 } });
  const seconds = (performance.now() - start) / 1000;
  await writeFile(path.join(o.out, 'pretrain-log.json'), `${JSON.stringify({ options: o, parameters: count, seconds, losses: losses.filter((_, i) => i % 10 === 0 || i === losses.length - 1) }, null, 1)}\n`);
  if (!o.quiet) console.log(`pretrain: final loss ${losses.at(-1)!.toFixed(3)} in ${seconds.toFixed(0)} s; wrote ${o.out}`);
  return { losses, seconds };
}
