import { existsSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ChatExampleTokenizer, formatTruncationReport, packSequences, splitArray, toMessages, type TokenizedExample } from '@tessera/datasets';
import { loadModel, saveModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel, adapterFiles } from '@tessera/peft';
import { Generator } from '@tessera/tensor';
import { loadCheckpoint, readCheckpointState, saveCheckpoint, type CheckpointState } from '../checkpoint.js';
import { RUN_CONFIG_DEFAULTS, flagOf, parseRunConfig, validateRunConfig, type RunConfig } from '../config/run-config.js';
import { dataFiles, readChatRecords } from '../read-chat-records.js';
import { checkResumeSettings, resumeSettings } from '../resume-settings.js';
import { RunFolder } from '../run-folder.js';
import { StepProgress } from '../progress.js';
import { trainLoop, validationLoss, type StepRecord, type TrainRow } from '../train-loop.js';
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

/** The keys a user set: the config file's, then command-line flags over them, each validated by the same rules (errors name the file and key, or "command line" and the flag). */
export async function givenRunConfig(configFile: string | undefined, overrides: Partial<RunConfig>): Promise<Partial<RunConfig>> {
  const fromFile = configFile ? parseRunConfig(await readFile(configFile, 'utf8'), configFile) : {};
  return { ...fromFile, ...validateRunConfig(overrides, 'command line', flagOf) };
}

/** The run config: defaults, then the config file, then command-line flags. */
export async function resolveRunConfig(configFile: string | undefined, overrides: Partial<RunConfig>): Promise<RunConfig> {
  return { ...RUN_CONFIG_DEFAULTS, ...(await givenRunConfig(configFile, overrides)) };
}

/** Validation hold-out: 5% of the examples (at least 1, at most 200; none from a single example), chosen by the seed with splitArray. */
export function splitValidation<T>(examples: readonly T[], seed: number): { validation: T[]; train: T[] } {
  const n = examples.length;
  const nVal = n < 2 ? 0 : Math.min(200, Math.max(1, Math.floor(n * 0.05)));
  const parts = splitArray(examples, { validation: nVal, train: n - nVal }, { seed });
  return { validation: parts.validation!, train: parts.train! };
}

/** Where a run folder notes the step and validation loss of its best-adapter/ (best-model/). */
const BEST_FILE = 'best.json';

/**
 * A run resumed into another --out (by default a new folder) starts without the best weights the
 * checkpoint's run kept: they are copied from that run's folder (the checkpoint's parent) when its
 * best.json names the checkpoint's best validation loss. A best written after the checkpoint (a newer,
 * lower loss) is not this run's, and is left there, as is a best folder already in --out.
 */
async function carryBest(resume: string, out: string, name: string, best: number, log: (s: string) => void): Promise<void> {
  const from = path.dirname(path.resolve(resume));
  if (from === path.resolve(out) || existsSync(path.join(out, name))) return;
  const noted = existsSync(path.join(from, BEST_FILE)) ? (JSON.parse(await readFile(path.join(from, BEST_FILE), 'utf8')) as { step: number; validationLoss: number }) : null;
  if (noted?.validationLoss === best && existsSync(path.join(from, name))) {
    await cp(path.join(from, name), path.join(out, name), { recursive: true });
    await cp(path.join(from, BEST_FILE), path.join(out, BEST_FILE));
    log(`copied ${name}/ (step ${noted.step}, validation loss ${best.toFixed(4)}) from ${from}`);
  } else log(`the checkpoint's best validation loss ${best.toFixed(4)} has no ${name}/ in ${from}${noted ? ` (its ${BEST_FILE} is step ${noted.step}, loss ${noted.validationLoss.toFixed(4)})` : ''}; ${out} gets one when validation improves on it`);
}

/** Fine-tunes a model folder on a chat data set with LoRA/DoRA/QLoRA or all weights; checkpoints, resume and Ctrl-C saving. */
export async function trainCommand(o: TrainCommandOptions): Promise<{ losses: number[]; validation: Array<[number, number]>; interrupted: boolean; earlyStopped: boolean; device: string }> {
  const started = performance.now();
  const cfg = await resolveRunConfig(o.configFile, o.overrides);
  const log = (s: string): void => void (o.quiet || console.log(s));
  if (cfg.patience > 0 && cfg.evalEvery === 0) throw new Error(`train: "patience" is ${cfg.patience} but "evalEvery" is 0; early stopping watches the validation loss, so set --eval-every N (e.g. 10)`);
  // The checkpoint's state (no tensors) is read first, so a missing or unreadable checkpoint fails before the
  // model loads; its settings and data are checked once the data is tokenised, before its weights are restored.
  const resumed: CheckpointState | undefined = o.resume ? await readCheckpointState(o.resume) : undefined;
  log(await useComputeBackend(cfg.backend));
  const { model, tokenizer, config, generationConfig } = await loadModel(o.model, { device: cfg.backend });
  if (!tokenizer) throw new Error(`--model ${o.model}: no tokenizer.json in the folder; a model folder needs one to tokenise the data`);
  const chat = new ChatExampleTokenizer(tokenizer, { maxLength: cfg.maxLength, trainOnInputs: cfg.trainOnInputs });
  // A record that cannot become a conversation, or that the chat template refuses, is a bad line too:
  // reported as file:line, and skipped or fatal as --on-bad-line says.
  const { records, bad } = await readChatRecords(await dataFiles(o.data), cfg.onBadLine, (r) => void toMessages(r));
  const unreadable = bad.length;
  const examples: TokenizedExample[] = [];
  for (const r of records) {
    try {
      const t = chat.tokenize(r.record);
      if (t) examples.push(t);
    } catch (err) {
      const reason = (err as Error).message;
      if (cfg.onBadLine === 'stop') throw new Error(`${r.where}: ${reason}; fix the line or pass --on-bad-line skip`);
      bad.push({ where: r.where, reason });
    }
  }
  for (const b of bad) log(`skipped ${b.where}: ${b.reason}`);
  log(`data: ${formatTruncationReport(chat.report, cfg.maxLength)}${bad.length ? `; ${bad.length} bad lines skipped` : ''}`);
  if (examples.length === 0) throw new Error(`--data ${o.data}: no usable examples (${bad.length} bad lines, ${chat.report.dropped} dropped by truncation)`);
  // Examples are held out only when validation runs (--eval-every > 0); with it off every example
  // trains, as transformers/TRL train on the whole train split when evaluation is off.
  const { validation: val, train: unpacked } = cfg.evalEvery > 0 ? splitValidation(examples, cfg.seed) : { validation: [], train: examples };
  if (cfg.evalEvery > 0 && val.length === 0) throw new Error(`--data ${o.data}: ${examples.length} usable example; validation (--eval-every ${cfg.evalEvery}) needs at least 2 (one is held out); add data or pass --eval-every 0`);
  // Packing lays examples end to end in windows of maxLength (first-fit decreasing); positions restart per example.
  const train: TrainRow[] = cfg.packing ? packSequences(unpacked, { maxLength: cfg.maxLength }) : unpacked;
  if (cfg.packing) log(`packing: ${unpacked.length} examples into ${train.length} rows of at most ${cfg.maxLength} tokens`);
  const steps = cfg.steps > 0 ? cfg.steps : Math.max(1, Math.ceil((cfg.epochs * train.length) / (cfg.batch * cfg.gradAccumulation)));
  const settings = resumeSettings(cfg, steps, unpacked, val);
  if (o.resume) checkResumeSettings(o.resume, resumed!.run, settings);

  let peft: PeftModel | null = null;
  const dropoutGenerator = new Generator(cfg.seed);
  if (cfg.method === 'qlora') {
    const q = quantizeDecoderLinears(model);
    log(`qlora: ${q.layers} Linear layers quantised to NF4 (${(q.denseBytes / 2 ** 20).toFixed(2)} MiB f32 -> ${(q.nf4Bytes / 2 ** 20).toFixed(2)} MiB)`);
  }
  if (cfg.method === 'full') {
    for (const [, p] of model.namedParameters()) p.requiresGrad = true;
  } else {
    peft = new PeftModel(model, { r: cfg.r, loraAlpha: cfg.alpha, loraDropout: cfg.dropout, targetModules: cfg.targets, useDora: cfg.method === 'dora' }, 'default', { generator: dropoutGenerator });
    log(peft.printTrainableParameters(() => undefined));
  }
  const trained = peft ?? model;
  const run = await new RunFolder(o.out).create();
  await run.write('run-config.json', `${JSON.stringify({ model: o.model, data: o.data, ...cfg, steps }, null, 2)}\n`);
  const optimizer = new AdamW(model.trainableParameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const checkpointDir = path.join(o.out, 'checkpoint');
  // Records and validations of the whole run, the resumed part included: checkpoints and the report carry them.
  const history: StepRecord[] = [];
  const validation: Array<[number, number]> = [];
  // Early stopping: the best validation loss so far, and validations since it improved.
  let best = Infinity;
  let sinceBest = 0;
  let earlyStopped = false;
  let cursor;
  const bestName = peft ? 'best-adapter' : 'best-model';
  if (o.resume) {
    const state = await loadCheckpoint(o.resume, trained, optimizer);
    cursor = state.cursor;
    history.push(...(state.records ?? []));
    if (state.validation) {
      best = state.validation.best ?? Infinity;
      sinceBest = state.validation.sinceBest;
      validation.push(...state.validation.history);
    }
    if (state.dropoutGenerator) dropoutGenerator.setState(state.dropoutGenerator);
    log(`resumed from ${o.resume} at step ${cursor.step}`);
    if (Number.isFinite(best)) await carryBest(o.resume, o.out, bestName, best, log);
    // A checkpoint saved when early stopping fired stays stopped (unless --patience is raised).
    if (cfg.patience > 0 && sinceBest >= cfg.patience) {
      earlyStopped = true;
      log(`early stopped: the checkpoint's validation loss had not improved on ${best.toFixed(4)} for ${sinceBest} validations (--patience ${cfg.patience}); raise --patience to train on`);
    }
  }
  const stateAt = (at: CheckpointState['cursor']): CheckpointState => ({
    cursor: at,
    records: history,
    validation: { best: Number.isFinite(best) ? best : null, sinceBest, history: validation },
    run: settings,
    dropoutGenerator: dropoutGenerator.getState(),
  });
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
    log('\nCtrl-C: finishing this step, saving a checkpoint and exiting (press again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const pad = config.padTokenId ?? 0;
  let lastSaved = -1;
  const result = await trainLoop(model, train, pad, { lr: cfg.lr, schedule: cfg.schedule, warmupSteps: cfg.warmup, steps, batchSize: cfg.batch, gradAccumulation: cfg.gradAccumulation, maxGradNorm: cfg.maxGradNorm, weightDecay: cfg.weightDecay, seed: cfg.seed }, {
    optimizer,
    cursor,
    shouldStop: () => stop || earlyStopped,
    // A resumed run's bar starts at its step, and its ETA counts only the steps run in this process.
    progress: new StepProgress('train', steps, o.quiet, { start: cursor?.step ?? 0 }),
    onStep: async (r, at) => {
      history.push(r);
      await run.metric({ phase: 'train', ...r });
      if (cfg.evalEvery > 0 && r.step % cfg.evalEvery === 0) {
        const loss = await validationLoss(model, val, pad);
        await run.metric({ phase: 'validation', step: r.step, loss });
        validation.push([r.step, loss]);
        if (loss < best) {
          best = loss;
          sinceBest = 0;
          // The best weights so far, as load_best_model_at_end keeps them.
          if (peft) await writeAdapter(run, bestName, peft);
          else await saveModel(model, path.join(o.out, bestName), { tokenizer, generationConfig });
          await run.write(BEST_FILE, `${JSON.stringify({ step: r.step, validationLoss: loss })}\n`);
        } else if (cfg.patience > 0 && ++sinceBest >= cfg.patience) {
          earlyStopped = true;
          log(`\nearly stopping at step ${r.step}: validation loss ${loss.toFixed(4)} has not improved on ${best.toFixed(4)} for ${cfg.patience} validations`);
        }
      }
      if (cfg.saveEvery > 0 && r.step % cfg.saveEvery === 0) {
        await saveCheckpoint(checkpointDir, trained, optimizer, stateAt(at));
        lastSaved = r.step;
      }
    },
  });
  process.off('SIGINT', onSigint);
  // The newest state is saved when a run stops early or was checkpointing, unless its last step was just saved.
  if ((stop || lastSaved >= 0) && lastSaved !== result.cursor.step) await saveCheckpoint(checkpointDir, trained, optimizer, stateAt(result.cursor));
  if (!stop) {
    if (peft) await writeAdapter(run, 'adapter', peft);
    else await saveModel(model, path.join(o.out, 'model'), { tokenizer, generationConfig });
  }
  const trainSeconds = result.records.at(-1)?.seconds ?? 0;
  const tokens = result.records.reduce((n, r) => n + r.tokens, 0);
  const bestValidationLoss = Number.isFinite(best) ? best : null;
  const data = { lines: records.length + unreadable, badLines: bad.length, examples: chat.report.examples, truncated: chat.report.truncated, dropped: chat.report.dropped, train: unpacked.length, validation: val.length };
  await run.write('summary.json', `${JSON.stringify({ model: o.model, data: o.data, config: { ...cfg, steps }, dataCounts: data, device: model.device, steps: result.cursor.step, resumedFrom: o.resume ?? null, interrupted: stop, earlyStopped, wallSeconds: (performance.now() - started) / 1000, trainSeconds, tokensPerSecond: trainSeconds > 0 ? tokens / trainSeconds : null, finalLoss: history.at(-1)?.loss ?? null, bestValidationLoss, validation }, null, 2)}\n`);
  await run.write('report.html', htmlReport({ title: `tessera-train train: ${path.basename(o.model)}`, records: history, validation, summary: { model: o.model, data: o.data, config: cfg, steps: result.cursor.step, earlyStopped, bestValidationLoss } }));
  log(stop ? `interrupted at step ${result.cursor.step}; resume with --resume ${checkpointDir}` : `wrote ${o.out}`);
  return { losses: result.records.map((r) => r.loss), validation, interrupted: stop, earlyStopped, device: model.device };
}
