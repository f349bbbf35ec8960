import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ChatExampleTokenizer, detectFormat, packSequences, type TokenizedExample } from '@tessera/datasets';
import { loadModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel, adapterFiles } from '@tessera/peft';
import { Generator } from '@tessera/tensor';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { RUN_CONFIG_DEFAULTS, parseRunConfig, type RunConfig } from '../config/run-config.js';
import { dataFiles, readChatRecords } from '../read-chat-records.js';
import { RunFolder } from '../run-folder.js';
import { StepProgress } from '../progress.js';
import { trainLoop, validationLoss, type TrainRow } from '../train-loop.js';
import { useComputeBackend } from '../compute-backend.js';
import { quantizeDecoderLinears } from '../quantize-base.js';
import { htmlReport } from '../report/html-report.js';

/** Writes a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) inside the run folder. */
async function writeAdapter(run: RunFolder, name: string, peft: PeftModel): Promise<void> {
  const files = await adapterFiles(peft);
  await run.write(`${name}/adapter_config.json`, files.config);
  await run.write(`${name}/adapter_model.safetensors`, files.weights);
}

/** What `tessera-train train` needs besides the run config. */
export interface TrainCommandOptions {
  model: string;
  data: string;
  out: string;
  configFile?: string;
  resume?: string;
  /** Flags given on the command line; they override the config file. */
  overrides: Partial<RunConfig>;
  quiet?: boolean;
}

/** The run config: defaults, then the config file, then command-line flags. */
export async function resolveRunConfig(configFile: string | undefined, overrides: Partial<RunConfig>): Promise<RunConfig> {
  const fromFile = configFile ? parseRunConfig(await readFile(configFile, 'utf8'), configFile) : {};
  return { ...RUN_CONFIG_DEFAULTS, ...fromFile, ...overrides };
}

/** Fine-tunes a model folder on a chat data set with LoRA/DoRA (or all weights); checkpoints, resume and Ctrl-C saving. */
export async function trainCommand(o: TrainCommandOptions): Promise<{ losses: number[]; validation: Array<[number, number]>; interrupted: boolean; earlyStopped: boolean; device: string }> {
  const started = performance.now();
  const cfg = await resolveRunConfig(o.configFile, o.overrides);
  const log = (s: string): void => void (o.quiet || console.log(s));
  if (cfg.patience > 0 && cfg.evalEvery === 0) throw new Error(`train: "patience" is ${cfg.patience} but "evalEvery" is 0; early stopping watches the validation loss, so set --eval-every N (e.g. 10)`);
  log(await useComputeBackend(cfg.backend));
  const { model, tokenizer, config } = await loadModel(o.model, { device: cfg.backend });
  if (!tokenizer) throw new Error(`--model ${o.model}: no tokenizer.json in the folder; a model folder needs one to tokenise the data`);
  const chat = new ChatExampleTokenizer(tokenizer, { maxLength: cfg.maxLength, trainOnInputs: cfg.trainOnInputs });
  const { records, bad } = await readChatRecords(await dataFiles(o.data), cfg.onBadLine, (r) => void detectFormat(r));
  for (const b of bad) log(`skipped ${b.where}: ${b.reason}`);
  const examples = records.map((r) => chat.tokenize(r.record)).filter((t): t is TokenizedExample => t !== null);
  if (examples.length === 0) throw new Error(`--data ${o.data}: no usable examples (${bad.length} bad lines, ${chat.report.dropped} dropped by truncation)`);
  // A fixed 5% (at most 200) held out for validation loss, chosen by the seed.
  const nVal = cfg.evalEvery > 0 ? Math.min(200, Math.max(1, Math.floor(examples.length * 0.05))) : 0;
  const val = examples.slice(0, nVal);
  const unpacked = examples.slice(nVal);
  // Packing lays examples end to end in windows of maxLength (first-fit decreasing); positions restart per example.
  const train: TrainRow[] = cfg.packing ? packSequences(unpacked, { maxLength: cfg.maxLength }) : unpacked;
  if (cfg.packing) log(`packing: ${unpacked.length} examples into ${train.length} rows of at most ${cfg.maxLength} tokens`);
  const steps = cfg.steps > 0 ? cfg.steps : Math.max(1, Math.ceil((cfg.epochs * train.length) / (cfg.batch * cfg.gradAccumulation)));

  let peft: PeftModel | null = null;
  if (cfg.method === 'qlora') {
    const q = quantizeDecoderLinears(model);
    log(`qlora: ${q.layers} Linear layers quantised to NF4 (${(q.denseBytes / 2 ** 20).toFixed(2)} MiB f32 -> ${(q.nf4Bytes / 2 ** 20).toFixed(2)} MiB)`);
  }
  if (cfg.method === 'full') {
    for (const [, p] of model.namedParameters()) p.requiresGrad = true;
  } else {
    peft = new PeftModel(model, { r: cfg.r, loraAlpha: cfg.alpha, loraDropout: cfg.dropout, targetModules: cfg.targets, useDora: cfg.method === 'dora' }, 'default', { generator: new Generator(cfg.seed) });
    log(peft.printTrainableParameters(() => undefined));
  }
  const run = await new RunFolder(o.out).create();
  await run.write('run-config.json', `${JSON.stringify({ model: o.model, data: o.data, ...cfg, steps }, null, 2)}\n`);
  const optimizer = new AdamW(model.trainableParameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
  let cursor;
  if (o.resume) {
    if (!peft) throw new Error('--resume: resuming method "full" is not supported yet; checkpoints hold adapters');
    cursor = (await loadCheckpoint(o.resume, peft, optimizer)).cursor;
    log(`resumed from ${o.resume} at step ${cursor.step}`);
  }
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
    log('\nCtrl-C: finishing this step, saving a checkpoint and exiting (press again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const pad = config.padTokenId ?? 0;
  const valLoss = (): Promise<number> => validationLoss(model, val, pad);
  const validation: Array<[number, number]> = [];
  let lastSaved = 0;
  // Early stopping: the best validation loss so far, and validations since it improved.
  let best = Infinity;
  let sinceBest = 0;
  let earlyStopped = false;
  const result = await trainLoop(model, train, pad, { lr: cfg.lr, schedule: cfg.schedule, warmupSteps: cfg.warmup, steps, batchSize: cfg.batch, gradAccumulation: cfg.gradAccumulation, maxGradNorm: cfg.maxGradNorm, weightDecay: cfg.weightDecay, seed: cfg.seed, quiet: o.quiet }, {
    optimizer,
    cursor,
    shouldStop: () => stop || earlyStopped,
    progress: new StepProgress('train', steps, o.quiet),
    onStep: async (r, at) => {
      await run.metric({ phase: 'train', ...r });
      if (cfg.evalEvery > 0 && r.step % cfg.evalEvery === 0) {
        const loss = await valLoss();
        await run.metric({ phase: 'validation', step: r.step, loss });
        validation.push([r.step, loss]);
        if (loss < best) {
          best = loss;
          sinceBest = 0;
          // The best adapter so far, as load_best_model_at_end keeps it.
          if (peft) await writeAdapter(run, 'best-adapter', peft);
        } else if (cfg.patience > 0 && ++sinceBest >= cfg.patience) {
          earlyStopped = true;
          log(`\nearly stopping at step ${r.step}: validation loss ${loss.toFixed(4)} has not improved on ${best.toFixed(4)} for ${cfg.patience} validations`);
        }
      }
      if (peft && cfg.saveEvery > 0 && r.step % cfg.saveEvery === 0) {
        await saveCheckpoint(path.join(o.out, 'checkpoint'), peft, optimizer, { cursor: at, optimizer: { step: 0, lrs: [] }, records: [] });
        lastSaved = r.step;
      }
    },
  });
  process.off('SIGINT', onSigint);
  // The loop's own cursor is exact; re-save it so the newest checkpoint always resumes correctly.
  if (peft && (stop || lastSaved > 0)) await saveCheckpoint(path.join(o.out, 'checkpoint'), peft, optimizer, { cursor: result.cursor, optimizer: { step: 0, lrs: [] }, records: result.records });
  if (peft && !stop) await writeAdapter(run, 'adapter', peft);
  const trainSeconds = result.records.at(-1)?.seconds ?? 0;
  const tokens = result.records.reduce((n, r) => n + r.tokens, 0);
  await run.write('summary.json', `${JSON.stringify({ model: o.model, data: o.data, config: { ...cfg, steps }, device: model.device, steps: result.cursor.step, interrupted: stop, earlyStopped, wallSeconds: (performance.now() - started) / 1000, trainSeconds, tokensPerSecond: trainSeconds > 0 ? tokens / trainSeconds : null, finalLoss: result.records.at(-1)?.loss ?? null, bestValidationLoss: Number.isFinite(best) ? best : null, validation }, null, 2)}\n`);
  await run.write('report.html', htmlReport({ title: `tessera-train train: ${path.basename(o.model)}`, records: result.records, validation, summary: { model: o.model, data: o.data, config: cfg, steps: result.cursor.step, earlyStopped, bestValidationLoss: Number.isFinite(best) ? best : null } }));
  log(stop ? `interrupted at step ${result.cursor.step}; resume with --resume ${path.join(o.out, 'checkpoint')}` : `wrote ${o.out}`);
  return { losses: result.records.map((r) => r.loss), validation, interrupted: stop, earlyStopped, device: model.device };
}
