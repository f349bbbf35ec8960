/**
 * tessera-train: the reference fine-tuning CLI. With no arguments it runs the built-in default
 * (evaluate the committed base model, fine-tune it with LoRA on the generated tasks, evaluate again).
 */
import { Command, Option } from 'commander';
import { registerBackend } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { PRETRAIN_DEFAULTS, pretrain } from './commands/pretrain.js';
import { DEFAULT_RUN, defaultRun } from './commands/default-run.js';

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

function useCpu(): void {
  registerBackend(createCpuBackend());
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
  .action(async (o) => {
    useCpu();
    await pretrain({ ...PRETRAIN_DEFAULTS, ...o });
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
  .option('--test-per-family <n>', 'held-out examples per task family', int, DEFAULT_RUN.testPerFamily)
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
      loop: { ...DEFAULT_RUN.loop, steps: o.steps, lr: o.lr, batchSize: o.batch },
    });
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`tessera-train: ${(err as Error).message}`);
  process.exit(1);
});
