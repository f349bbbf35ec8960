import { backward } from '@tessera/autograd';
import { padCollate, SeededRandom, type TokenizedExample } from '@tessera/datasets';
import type { LlamaForCausalLM } from '@tessera/models';
import { AdamW, LRScheduler, clipGradNorm, constantSchedule, cosineSchedule, linearSchedule, type Schedule } from '@tessera/optim';
import { tensorFromTyped, tidy, type Tensor } from '@tessera/tensor';
import { StepProgress } from './progress.js';

/** The training knobs the loop reads. */
export interface TrainLoopOptions {
  lr: number;
  schedule: 'cosine' | 'linear' | 'constant';
  warmupSteps: number;
  steps: number;
  batchSize: number;
  gradAccumulation: number;
  maxGradNorm: number;
  weightDecay: number;
  seed: number;
  quiet?: boolean;
}

/** One logged optimizer step. */
export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  tokens: number;
  seconds: number;
}

function scheduleOf(o: TrainLoopOptions): Schedule {
  if (o.schedule === 'linear') return linearSchedule(o.steps, o.warmupSteps);
  if (o.schedule === 'constant') return constantSchedule(o.warmupSteps);
  return cosineSchedule(o.steps, o.warmupSteps);
}

/** The example order of one epoch: a seeded shuffle, so a cursor (epoch, index) names a position exactly. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const r = new SeededRandom(seed * 1_000_003 + epoch);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Rows collated into (B, T) tensors: ids, labels (-100 on prompt and padding) and the attention mask. */
export function batchTensors(rows: TokenizedExample[], padId: number): { ids: Tensor; labels: Tensor; mask: Tensor; tokens: number } {
  const b = padCollate(rows, { padId });
  const labels = b.labels;
  let tokens = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== -100) tokens++;
  return {
    ids: tensorFromTyped(b.inputIds, b.shape, 'i32'),
    labels: tensorFromTyped(b.labels, b.shape, 'i32'),
    mask: tensorFromTyped(Int32Array.from(b.attentionMask), b.shape, 'i32'),
    tokens,
  };
}

/** Where training stands: what a checkpoint saves to continue exactly. */
export interface LoopCursor {
  step: number;
  epoch: number;
  index: number;
}

/** Trains the model's trainable parameters on `examples` with AdamW; `onStep` sees every step. */
export async function trainLoop(
  model: LlamaForCausalLM,
  examples: TokenizedExample[],
  padId: number,
  o: TrainLoopOptions,
  hooks: { onStep?: (r: StepRecord, cursor: LoopCursor) => void | Promise<void>; shouldStop?: () => boolean; optimizer?: AdamW; cursor?: LoopCursor } = {},
): Promise<{ records: StepRecord[]; optimizer: AdamW; scheduler: LRScheduler; cursor: LoopCursor }> {
  const params = model.trainableParameters();
  const optimizer = hooks.optimizer ?? new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay });
  const scheduler = new LRScheduler(optimizer, scheduleOf(o));
  const cursor: LoopCursor = hooks.cursor ? { ...hooks.cursor } : { step: 0, epoch: 0, index: 0 };
  scheduler.loadStateDict({ step: cursor.step });
  let order = epochOrder(examples.length, o.seed, cursor.epoch);
  const records: StepRecord[] = [];
  const bar = new StepProgress('train', o.steps, o.quiet);
  const t0 = performance.now();
  let tokensSeen = 0;
  model.train();
  while (cursor.step < o.steps && !(hooks.shouldStop?.() ?? false)) {
    optimizer.zeroGrad();
    let lossSum = 0;
    let tokenSum = 0;
    for (let micro = 0; micro < o.gradAccumulation; micro++) {
      const rows: TokenizedExample[] = [];
      while (rows.length < o.batchSize) {
        if (cursor.index >= order.length) {
          cursor.epoch++;
          cursor.index = 0;
          order = epochOrder(examples.length, o.seed, cursor.epoch);
        }
        rows.push(examples[order[cursor.index++]!]!);
      }
      lossSum += tidy(() => {
        const b = batchTensors(rows, padId);
        tokenSum += b.tokens;
        const { loss } = model.forward(b.ids, { labels: b.labels, attentionMask: b.mask });
        // Mean over micro-batches: each micro-batch loss is already a per-token mean.
        backward(o.gradAccumulation === 1 ? loss! : loss!.div(o.gradAccumulation));
        return loss!.dataSync()[0]!;
      });
    }
    if (o.maxGradNorm > 0) tidy(() => void clipGradNorm(params.map(([, p]) => p), o.maxGradNorm));
    const lr = optimizer.lr;
    optimizer.step();
    scheduler.step();
    cursor.step++;
    tokensSeen += tokenSum;
    const seconds = (performance.now() - t0) / 1000;
    const record = { step: cursor.step, loss: lossSum / o.gradAccumulation, lr, tokens: tokenSum, seconds };
    records.push(record);
    bar.update(cursor.step, record.loss, lr, tokensSeen / seconds);
    await hooks.onStep?.(record, { ...cursor });
  }
  bar.stop();
  model.eval();
  optimizer.zeroGrad();
  return { records, optimizer, scheduler, cursor };
}
