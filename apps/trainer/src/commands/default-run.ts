import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatExampleTokenizer, type TokenizedExample } from '@tessera/datasets';
import { formatClassificationReport } from '@tessera/metrics';
import { generate, loadModel } from '@tessera/models';
import { noGrad } from '@tessera/autograd';
import { PeftModel, adapterFiles } from '@tessera/peft';
import { Generator } from '@tessera/tensor';
import { instructionTasks } from '../data/instruction-tasks.js';
import { evaluate, type EvalExample, type Evaluation } from '../evaluate.js';
import { beforeAfterRows, formatBeforeAfter } from '../report/before-after-table.js';
import { htmlReport } from '../report/html-report.js';
import { RunFolder } from '../run-folder.js';
import { CountProgress, StepProgress } from '../progress.js';
import { trainLoop, validationLoss, type TrainLoopOptions } from '../train-loop.js';

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** The committed base model (made by `tessera-train pretrain`; see assets/README.md). */
export const DEFAULT_MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../assets/default-model');

// Greedy decoding budget: the longest answers (three NER entities, each with a tag that the byte-level
// tokenizer spells in several tokens) run to about 30 tokens; decoding stops earlier at <|end|>.
const ANSWER_TOKENS = 48;

/** Options of the built-in default run. */
export interface DefaultRunOptions {
  model: string;
  out: string;
  seed: number;
  trainPerFamily: number;
  testPerFamily: number;
  /** Validation examples per family: the split every choice of the default (base model, steps, knobs) was made on. */
  validationPerFamily: number;
  /** Validation loss every this many steps (0: never); the validation split's exact match is measured after training either way. */
  evalEvery: number;
  r: number;
  alpha: number;
  targets: string[];
  /** Whole modules trained and saved beside the adapter (PEFT modules_to_save). */
  modulesToSave: string[];
  loop: TrainLoopOptions;
  quiet?: boolean;
}

export const DEFAULT_RUN: Omit<DefaultRunOptions, 'out'> = {
  model: DEFAULT_MODEL_DIR,
  seed: 0,
  trainPerFamily: 400,
  testPerFamily: 20,
  validationPerFamily: 20,
  evalEvery: 100,
  r: 16,
  alpha: 32,
  targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  // The chat tokens (<|assistant|>, <|end|>) never occur in pretraining, so their tied input/output
  // embeddings are untrained noise that a low-rank update cannot reach: the answer loss stalls at ~6
  // nats on the end-of-turn token. Training the embedding is what PEFT advises for new tokens; it
  // stays tied to the output head (ensure_weight_tying), so the head's rows for them train too.
  modulesToSave: ['embed_tokens'],
  loop: { lr: 2e-3, schedule: 'cosine', warmupSteps: 10, steps: 1500, batchSize: 16, gradAccumulation: 1, maxGradNorm: 1, weightDecay: 0, seed: 0, groupByLength: true },
};

/** Evaluate the base model, fine-tune LoRA on the generated tasks, evaluate again; write adapter, report and samples. */
export async function defaultRun(o: DefaultRunOptions): Promise<{ before: Evaluation; after: Evaluation; seconds: number }> {
  const start = performance.now();
  const log = (s: string): void => void (o.quiet || console.log(s));
  const run = await new RunFolder(o.out).create();
  const { model, tokenizer, config } = await loadModel(o.model);
  if (!tokenizer) throw new Error(`${o.model}: no tokenizer.json; the default run needs a model folder with a tokenizer and a chat template`);
  const data = instructionTasks(o.seed, o.trainPerFamily, o.testPerFamily, o.validationPerFamily);
  const chat = new ChatExampleTokenizer(tokenizer, { maxLength: 96 });
  // Generation is the slow part of an evaluation: a bar (or a line every ~10 s off a terminal) shows it.
  const evaluated = async (examples: EvalExample[]): Promise<Evaluation> => {
    const bar = new CountProgress('eval', examples.length, o.quiet, { unit: 'examples' });
    try {
      return await evaluate(model, tokenizer, chat, examples, { maxNewTokens: ANSWER_TOKENS, onProgress: (done) => bar.update(done) });
    } finally {
      bar.stop();
    }
  };
  const train = data.train.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null);
  const validationRows = data.validation.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null);
  log(`tessera-train: base ${o.model} (${config.numHiddenLayers} layers, dim ${config.hiddenSize}); ${train.length} training, ${data.validation.length} validation and ${data.test.length} test examples in ${new Set(data.test.map((e) => e.family)).size} families`);

  log('evaluating the base model on the test split ...');
  const before = await evaluated(data.test);
  await run.metric({ phase: 'eval-before', ...before.overall });

  const peft = new PeftModel(model, { r: o.r, loraAlpha: o.alpha, loraDropout: 0, targetModules: o.targets, modulesToSave: o.modulesToSave, ensureWeightTying: true }, 'default', { generator: new Generator(o.seed) });
  log(peft.printTrainableParameters(() => undefined));
  const pad = config.padTokenId ?? 0;
  // The validation split's loss (not the test split's) is the curve a user would stop on.
  const validation: Array<[number, number]> = validationRows.length > 0 ? [[0, await validationLoss(model, validationRows, pad)]] : [];
  const { records } = await trainLoop(model, train, pad, o.loop, {
    onStep: async (r) => {
      await run.metric({ phase: 'train', ...r });
      if (validationRows.length > 0 && o.evalEvery > 0 && r.step % o.evalEvery === 0) {
        const loss = await validationLoss(model, validationRows, pad);
        model.train();
        validation.push([r.step, loss]);
        await run.metric({ phase: 'validation', step: r.step, loss });
      }
    },
    progress: new StepProgress('train', o.loop.steps, o.quiet),
  });

  log('evaluating the fine-tuned model ...');
  const validated = data.validation.length > 0 ? await evaluated(data.validation) : undefined;
  if (validated) {
    if (validation.at(-1)?.[0] !== records.length) validation.push([records.length, validated.overall.loss]);
    await run.metric({ phase: 'validation-after', ...validated.overall });
  }
  const after = await evaluated(data.test);
  await run.metric({ phase: 'eval-after', ...after.overall });

  const table = formatBeforeAfter(before, after);
  log(`\n${table}\n`);
  if (validated) log(`validation split (${data.validation.length} examples, the split the default's choices were made on): exact match ${pct(validated.overall.exactMatch)} (${Object.entries(validated.families).map(([f, m]) => `${f} ${pct(m.exactMatch)}`).join(', ')})\n`);
  if (after.ner) log(`NER token-level classification report (after, test split):\n${formatClassificationReport(after.ner.tokenReport)}`);

  const files = await adapterFiles(peft);
  await run.write('adapter/adapter_config.json', files.config);
  await run.write('adapter/adapter_model.safetensors', files.weights);

  const samples: Array<{ prompt: string; reply: string }> = [];
  for (const ex of [data.test[0]!, data.test[o.testPerFamily * 2]!, data.test[o.testPerFamily * 4]!]) {
    const ids = tokenizer.encode(tokenizer.applyChatTemplate([ex.messages[0]!], { addGenerationPrompt: true }).text, { addSpecialTokens: false }).ids;
    const out = await noGrad(() => generate(model, [ids], { maxNewTokens: ANSWER_TOKENS, tokenizer }));
    samples.push({ prompt: ex.messages[0]!.content, reply: out.text![0]!.trim() });
  }
  await run.write('samples.jsonl', samples.map((s) => JSON.stringify({ messages: [{ role: 'user', content: s.prompt }, { role: 'assistant', content: s.reply }] })).join('\n') + '\n');
  await run.write('predictions.jsonl', after.predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');

  const seconds = (performance.now() - start) / 1000;
  const trainTokens = records.reduce((s, r) => s + r.tokens, 0);
  const summary = {
    model: o.model,
    data: { generator: 'instructionTasks', seed: o.seed, trainPerFamily: o.trainPerFamily, validationPerFamily: o.validationPerFamily, testPerFamily: o.testPerFamily, trainExamples: train.length, validationExamples: data.validation.length, testExamples: data.test.length },
    config: { method: 'lora', r: o.r, alpha: o.alpha, targets: o.targets, evalEvery: o.evalEvery, ...o.loop },
    wallSeconds: seconds,
    trainSeconds: records.at(-1)?.seconds ?? 0,
    tokensPerSecond: trainTokens / Math.max(1e-9, records.at(-1)?.seconds ?? 1),
    before: { families: before.families, overall: before.overall, nerMicroF1: before.ner?.microF1 },
    after: { families: after.families, overall: after.overall, nerMicroF1: after.ner?.microF1 },
    validationAfter: validated && { families: validated.families, overall: validated.overall, nerMicroF1: validated.ner?.microF1 },
    table: beforeAfterRows(before, after),
  };
  await run.write('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  await run.write('report.html', htmlReport({ title: 'tessera-train: default run', records, validation, before, after, samples, summary }));
  log(`wrote ${o.out}: summary.json, metrics.jsonl, report.html, samples.jsonl, adapter/ (${seconds.toFixed(0)} s in all)`);
  return { before, after, seconds };
}
