/**
 * tessera-train: the reference fine-tuning CLI. With no arguments it runs the built-in default
 * (evaluate the committed base model, fine-tune it with LoRA on the generated tasks, evaluate again).
 */
import { Command, Option } from 'commander';
import { registerBackend } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { PRETRAIN_DEFAULTS, pretrain } from './commands/pretrain.js';
import { DEFAULT_RUN, defaultRun } from './commands/default-run.js';
import { givenRunConfig, trainCommand } from './commands/train.js';
import { parseAdapterSpec, serveCommand } from './commands/serve.js';
import { evalCommand } from './commands/eval.js';
import { tokenClassificationCommand } from './commands/token-classification.js';
import { chatCommand, estimateCommand, mergeCommand, previewDataCommand } from './commands/model-tools.js';
import type { RunConfig } from './config/run-config.js';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`expected an integer, got "${v}"`);
  return n;
};
const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got "${v}"`);
  return n;
};

function useCpu(threads?: number): void {
  registerBackend(createCpuBackend(threads === undefined ? {} : { threads }));
}

const program = new Command('tessera-train').description('Fine-tune, evaluate and chat with Llama-family models in TypeScript');

program
  .command('pretrain')
  .description('train a byte-level BPE tokenizer and a small Llama on a generated English corpus; write a Hugging Face folder')
  .requiredOption('--out <dir>', 'output folder')
  .option('--seed <n>', 'seed', int, PRETRAIN_DEFAULTS.seed)
  .option('--vocab-size <n>', 'BPE vocabulary size', int, PRETRAIN_DEFAULTS.vocabSize)
  .option('--hidden-size <n>', 'model width', int, PRETRAIN_DEFAULTS.hiddenSize)
  .option('--layers <n>', 'decoder layers', int, PRETRAIN_DEFAULTS.layers)
  .option('--heads <n>', 'attention heads', int, PRETRAIN_DEFAULTS.heads)
  .option('--seq-len <n>', 'tokens per window', int, PRETRAIN_DEFAULTS.seqLen)
  .option('--batch <n>', 'windows per step', int, PRETRAIN_DEFAULTS.batch)
  .option('--steps <n>', 'optimizer steps', int, PRETRAIN_DEFAULTS.steps)
  .option('--lr <x>', 'peak learning rate (cosine schedule)', num, PRETRAIN_DEFAULTS.lr)
  .option('--paragraphs <n>', 'generated corpus paragraphs', int, PRETRAIN_DEFAULTS.paragraphs)
  .option('--copy-warmup <n>', 'first steps on runs of words said twice only (forms the induction head)', int, PRETRAIN_DEFAULTS.copyWarmup)
  .option('--copy-mix <x>', 'fraction of each later step\'s windows drawn from the runs of words said twice', num, PRETRAIN_DEFAULTS.copyMix)
  .option('--arith-mix <x>', 'fraction of each step\'s windows drawn from the arithmetic drill (every sum and difference up to 20)', num, PRETRAIN_DEFAULTS.arithMix)
  .option('--names-mix <x>', 'fraction of each step\'s windows drawn from the names drill (sentences, then their names with their kinds)', num, PRETRAIN_DEFAULTS.namesMix)
  .option('--weight-decay <x>', 'AdamW weight decay', num, PRETRAIN_DEFAULTS.weightDecay)
  .option('--warmup <n>', 'learning-rate warm-up steps', int, PRETRAIN_DEFAULTS.warmup)
  .option('--init <dir>', 'continue from the weights and tokenizer of an earlier pretrain folder (same seed and shape)')
  .option('--save-every <n>', 'also save the model to <out>/step-N every N steps', int, PRETRAIN_DEFAULTS.saveEvery)
  .option('--threads <n>', 'CPU threads for matrix products (default: every core)', int)
  .action(async ({ threads, ...o }) => {
    useCpu(threads);
    await pretrain({ ...PRETRAIN_DEFAULTS, ...o });
  });

const list = (v: string): string[] => v.split(',').map((x) => x.trim()).filter(Boolean);
const bool = (v: string): boolean => {
  if (v !== 'true' && v !== 'false') throw new Error(`expected true or false, got "${v}"`);
  return v === 'true';
};

program
  .command('train')
  .description('fine-tune a Hugging Face model folder on a chat data set (messages/ShareGPT/Alpaca JSONL)')
  .requiredOption('--model <dir>', 'base model folder (config.json, *.safetensors, tokenizer.json)')
  .requiredOption('--data <file|dir>', 'a .jsonl file or a folder of them')
  .option('--config <file>', 'run config (.yaml/.yml/.json); flags override it')
  .option('--out <dir>', 'run folder', `runs/train-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  .option('--resume <dir>', 'continue from a checkpoint folder')
  .addOption(new Option('--method <m>', 'what to train').choices(['lora', 'dora', 'qlora', 'full']))
  .option('--r <n>', 'LoRA rank', int)
  .option('--alpha <x>', 'LoRA alpha', num)
  .option('--dropout <x>', 'LoRA dropout', num)
  .option('--targets <names>', 'comma-separated module names', list)
  .option('--lr <x>', 'peak learning rate', num)
  .addOption(new Option('--schedule <s>', 'learning-rate schedule').choices(['cosine', 'linear', 'constant']))
  .option('--warmup <n>', 'warmup steps', int)
  .option('--epochs <x>', 'passes over the data (when --steps is 0)', num)
  .option('--steps <n>', 'optimizer steps (0: from epochs)', int)
  .option('--batch <n>', 'examples per micro-batch', int)
  .option('--grad-accumulation <n>', 'micro-batches per optimizer step', int)
  .option('--max-length <n>', 'truncate examples to this many tokens', int)
  .option('--packing <bool>', 'pack examples into full windows', bool)
  .option('--train-on-inputs <bool>', 'also train on prompt tokens', bool)
  .option('--seed <n>', 'seed', int)
  .option('--eval-every <n>', 'validation loss every N steps (0: never)', int)
  .option('--save-every <n>', 'checkpoint every N steps (0: only on Ctrl-C)', int)
  .option('--patience <n>', 'early stopping: validations without improvement before stopping (0: off; needs --eval-every)', int)
  .addOption(new Option('--backend <b>', 'where to compute').choices(['cpu', 'webgpu']))
  .addOption(new Option('--task <task>', 'chat fine-tuning of a causal LM, or NER on a CoNLL folder with a BERT-style model').choices(['chat', 'token-classification']).default('chat'))
  .addOption(new Option('--on-bad-line <mode>', 'a bad data line stops the run or is skipped').choices(['stop', 'skip']))
  .action(async (o) => {
    useCpu();
    const keys: Array<keyof RunConfig> = ['method', 'r', 'alpha', 'dropout', 'targets', 'lr', 'schedule', 'warmup', 'epochs', 'steps', 'batch', 'gradAccumulation', 'maxLength', 'packing', 'trainOnInputs', 'seed', 'evalEvery', 'saveEvery', 'patience', 'backend', 'onBadLine'];
    const overrides = Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
    if (o.task === 'token-classification') {
      await tokenClassificationCommand({ model: o.model, data: o.data, out: o.out, config: await givenRunConfig(o.config, overrides), resume: o.resume });
      return;
    }
    const r = await trainCommand({ model: o.model, data: o.data, out: o.out, configFile: o.config, resume: o.resume, overrides });
    if (r.interrupted) process.exitCode = 130;
  });

program
  .command('chat')
  .alias('generate')
  .description('chat with a model (and adapter), streaming tokens; --prompt for one reply')
  .option('--model <dir>', 'model folder', DEFAULT_RUN.model)
  .option('--adapter <dir>', 'PEFT adapter folder')
  .option('--prompt <text>', 'answer one prompt and exit')
  .option('--max-new-tokens <n>', 'most tokens per reply', int, 64)
  .action(async (o) => {
    useCpu();
    await chatCommand(o);
  });

program
  .command('eval')
  .description('exact match per task family, answer loss and perplexity, NER report where records carry words/tags; writes JSON')
  .option('--model <dir>', 'model folder', DEFAULT_RUN.model)
  .option('--adapter <dir>', 'PEFT adapter folder')
  .requiredOption('--data <file|dir>', 'a .jsonl file or a folder of them (any chat format; optional "family"/"task", "words"/"tags" fields)')
  .option('--out <file>', 'JSON results', 'eval.json')
  .option('--max-length <n>', 'truncate examples to this many tokens', int, 512)
  .option('--max-new-tokens <n>', 'most tokens per generated answer', int, 32)
  .addOption(new Option('--on-bad-line <mode>', 'a bad data line stops the run or is skipped').choices(['stop', 'skip']).default('stop'))
  .action(async (o) => {
    useCpu();
    await evalCommand(o);
  });

program
  .command('serve')
  .description('an OpenAI-compatible HTTP server (/v1/chat/completions, /v1/completions, /v1/models) for a model and any number of adapters')
  .option('--model <dir>', 'base model folder', DEFAULT_RUN.model)
  .option('--adapter <name=dir>', 'serve a PEFT adapter under this model name (repeatable)', (v: string, acc: ReturnType<typeof parseAdapterSpec>[]) => [...acc, parseAdapterSpec(v)], [])
  .option('--name <name>', 'model name of the base (default: the folder name)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <n>', 'port', int, 8000)
  .action(async (o) => {
    useCpu();
    await serveCommand(o);
  });

program
  .command('merge')
  .description('fold an adapter into the base weights and save a Hugging Face folder')
  .requiredOption('--model <dir>', 'base model folder')
  .requiredOption('--adapter <dir>', 'PEFT adapter folder')
  .requiredOption('--out <dir>', 'output folder')
  .action(async (o) => {
    useCpu();
    await mergeCommand(o);
  });

program
  .command('preview-data')
  .description('show which tokens of the first records are trained (the loss mask)')
  .option('--model <dir>', 'model folder (its tokenizer and chat template)', DEFAULT_RUN.model)
  .requiredOption('--data <file>', '.jsonl file')
  .option('--count <n>', 'records to show', int, 3)
  .option('--train-on-inputs', 'also train on prompt tokens', false)
  .action(async (o) => {
    useCpu();
    await previewDataCommand(o);
  });

program
  .command('estimate')
  .description('memory estimate for training a model with LoRA before running')
  .option('--model <dir>', 'model folder (config.json)', DEFAULT_RUN.model)
  .option('--batch <n>', 'batch', int, 8)
  .option('--seq <n>', 'sequence length', int, 512)
  .option('--r <n>', 'LoRA rank (0: full fine-tuning)', int, 16)
  .option('--targets <names>', 'comma-separated module names', list, DEFAULT_RUN.targets)
  .action(async (o) => {
    await estimateCommand(o);
  });

program
  .command('default', { isDefault: true })
  .description('the built-in default: evaluate the committed base model, fine-tune LoRA on the generated tasks, evaluate again, write a report')
  .option('--model <dir>', 'base model folder', DEFAULT_RUN.model)
  .option('--out <dir>', 'run folder', `runs/default-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  .option('--steps <n>', 'optimizer steps', int, DEFAULT_RUN.loop.steps)
  .option('--lr <x>', 'peak learning rate', num, DEFAULT_RUN.loop.lr)
  .option('--batch <n>', 'examples per step', int, DEFAULT_RUN.loop.batchSize)
  .option('--r <n>', 'LoRA rank', int, DEFAULT_RUN.r)
  .option('--alpha <n>', 'LoRA alpha', num, DEFAULT_RUN.alpha)
  .option('--train-per-family <n>', 'generated training examples per task family', int, DEFAULT_RUN.trainPerFamily)
  .option('--test-per-family <n>', 'held-out test examples per task family', int, DEFAULT_RUN.testPerFamily)
  .option('--validation-per-family <n>', 'validation examples per task family (a third split, disjoint from train and test)', int, DEFAULT_RUN.validationPerFamily)
  .option('--eval-every <n>', 'validation loss every N steps (0: never)', int, DEFAULT_RUN.evalEvery)
  .action(async (o) => {
    useCpu();
    await defaultRun({
      ...DEFAULT_RUN,
      model: o.model,
      out: o.out,
      r: o.r,
      alpha: o.alpha,
      trainPerFamily: o.trainPerFamily,
      testPerFamily: o.testPerFamily,
      validationPerFamily: o.validationPerFamily,
      evalEvery: o.evalEvery,
      loop: { ...DEFAULT_RUN.loop, steps: o.steps, lr: o.lr, batchSize: o.batch },
    });
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`tessera-train: ${(err as Error).message}`);
  process.exit(1);
});
