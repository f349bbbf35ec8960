import { backward, noGrad } from '@tessera/autograd';
import { bucketByLength, padCollate, SeededRandom, type PackedSequence, type TokenizedExample } from '@tessera/datasets';
import type { LlamaForCausalLM } from '@tessera/models';
import { AdamW, LRScheduler, clipGradNorm, constantSchedule, cosineSchedule, linearSchedule, type Schedule } from '@tessera/optim';
import { tensorFromTyped, tidy, type Tensor } from '@tessera/tensor';

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
  /**
   * Batch examples of similar length (Hugging Face's group_by_length; @tessera/datasets' bucketByLength
   * over windows of 8 batches), so a batch pads to little more than its own length. Default off.
   */
  groupByLength?: boolean;
}

/**
 * Where the loop reports each step's numbers for display: the CLI passes its terminal bar
 * (progress.ts), the studio its worker messages. The loop stays free of any console or DOM.
 */
export interface StepReporter {
  /** `inputTokensPerSecond`: real (non-padding) input tokens per second since the loop started, prompts included. */
  update(step: number, loss: number, lr: number, inputTokensPerSecond: number): void;
  stop(): void;
}

/** One logged optimizer step. */
export interface StepRecord {
  step: number;
  /** NaN for a step skipped because its batch had no loss token (tokens 0). */
  loss: number;
  lr: number;
  /** Loss tokens (labels other than -100): what the summaries' tokens per second count. */
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

/**
 * A training row: a tokenised example, or several packed end to end (@tessera/datasets'
 * packSequences), whose positions restart at 0 for each example inside it.
 */
export type TrainRow = TokenizedExample | PackedSequence;

/**
 * Rows collated into (B, T) tensors: ids, labels (-100 on prompt and padding), the attention mask
 * ((B, T, T) block-diagonal for packed rows), and for packed rows the per-example position ids.
 * `tokens` counts the labelled tokens, `inputTokens` the real (non-padding) input tokens, prompts included.
 */
export function batchTensors(rows: readonly TrainRow[], padId: number): { ids: Tensor; labels: Tensor; mask: Tensor; positions?: Tensor; tokens: number; inputTokens: number } {
  const b = padCollate(rows, { padId });
  const labels = b.labels;
  let tokens = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== -100) tokens++;
  let inputTokens = 0;
  for (let i = 0; i < b.attentionMask.length; i++) inputTokens += b.attentionMask[i]!;
  return {
    ids: tensorFromTyped(b.inputIds, b.shape, 'i32'),
    labels: tensorFromTyped(b.labels, b.shape, 'i32'),
    // Packed rows carry a (B, T, T) block-diagonal mask, so packed examples never see each other.
    mask: b.attentionMask4d
      ? tensorFromTyped(Int32Array.from(b.attentionMask4d), [b.shape[0], b.shape[1], b.shape[1]], 'i32')
      : tensorFromTyped(Int32Array.from(b.attentionMask), b.shape, 'i32'),
    positions: b.attentionMask4d ? tensorFromTyped(b.positionIds, b.shape, 'i32') : undefined,
    tokens,
    inputTokens,
  };
}

/** The tokens a batch's causal LM loss averages over: labels other than -100 after the one-position shift. */
export function lossTokenCount(rows: readonly TrainRow[]): number {
  let n = 0;
  for (const r of rows) for (let k = 1; k < r.labels.length; k++) if (r.labels[k] !== -100) n++;
  return n;
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
  examples: readonly TrainRow[],
  padId: number,
  o: TrainLoopOptions,
  hooks: { onStep?: (r: StepRecord, cursor: LoopCursor) => void | Promise<void>; shouldStop?: () => boolean; optimizer?: AdamW; cursor?: LoopCursor; progress?: StepReporter } = {},
): Promise<{ records: StepRecord[]; optimizer: AdamW; scheduler: LRScheduler; cursor: LoopCursor }> {
  const params = model.trainableParameters();
  const optimizer = hooks.optimizer ?? new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay });
  const scheduler = new LRScheduler(optimizer, scheduleOf(o));
  const cursor: LoopCursor = hooks.cursor ? { ...hooks.cursor } : { step: 0, epoch: 0, index: 0 };
  scheduler.loadStateDict({ step: cursor.step });
  // Grouped batches come from bucketByLength's seeded shuffle, so (epoch, index) still names a position exactly.
  const orderOf = (epoch: number): number[] =>
    o.groupByLength ? bucketByLength(examples as TokenizedExample[], { batchSize: o.batchSize, seed: o.seed * 1_000_003 + epoch, windowBatches: 8 }).flat() : epochOrder(examples.length, o.seed, epoch);
  let order = orderOf(cursor.epoch);
  const records: StepRecord[] = [];
  const bar = hooks.progress;
  const t0 = performance.now();
  // Input tokens (prompts included, padding not) since the loop started: the display's rate, as
  // trainers usually report throughput. Records keep the loss tokens.
  let inputSeen = 0;
  model.train();
  while (cursor.step < o.steps && !(hooks.shouldStop?.() ?? false)) {
    optimizer.zeroGrad();
    const micros: TrainRow[][] = [];
    for (let micro = 0; micro < o.gradAccumulation; micro++) {
      const rows: TrainRow[] = [];
      while (rows.length < o.batchSize) {
        if (cursor.index >= order.length) {
          cursor.epoch++;
          cursor.index = 0;
          order = orderOf(cursor.epoch);
        }
        rows.push(examples[order[cursor.index++]!]!);
      }
      micros.push(rows);
    }
    // With accumulation, each micro-batch's per-token mean is weighted by its share of the step's loss
    // tokens, so the step's gradient is the per-token mean over all of them, as one big batch gives
    // (transformers >= 4.46). One micro-batch is left exactly as it is.
    const counts = micros.map(lossTokenCount);
    const total = counts.reduce((a, b) => a + b, 0);
    // A step with no loss token at all (every label -100) has nothing to learn, and its weights would
    // be 0/0 and its loss NaN, which would reach every weight: it is skipped (no forward, no update),
    // but still counts, so --steps bounds the run and a checkpoint's cursor stays exact.
    const learn = total > 0;
    let lossSum = learn ? 0 : NaN;
    let tokenSum = 0;
    for (const [m, rows] of learn ? micros.entries() : []) {
      const weight = o.gradAccumulation === 1 ? 1 : counts[m]! / total;
      if (weight === 0) continue; // no loss token: nothing to learn, and its loss would be NaN
      const loss = tidy(() => {
        const b = batchTensors(rows, padId);
        tokenSum += b.tokens;
        inputSeen += b.inputTokens;
        const { loss } = model.forward(b.ids, { labels: b.labels, attentionMask: b.mask, positionIds: b.positions });
        backward(weight === 1 ? loss! : loss!.mul(weight));
        return loss!;
      });
      // An async read: GPU backends cannot read synchronously.
      lossSum += weight === 1 ? (await loss.data())[0]! : (await loss.data())[0]! * weight;
      loss.dispose();
    }
    if (learn && o.maxGradNorm > 0) tidy(() => void clipGradNorm(params.map(([, p]) => p), o.maxGradNorm));
    const lr = optimizer.lr;
    if (learn) optimizer.step();
    scheduler.step();
    cursor.step++;
    const seconds = (performance.now() - t0) / 1000;
    const record = { step: cursor.step, loss: lossSum, lr, tokens: tokenSum, seconds };
    records.push(record);
    bar?.update(cursor.step, record.loss, lr, inputSeen / seconds);
    await hooks.onStep?.(record, { ...cursor });
  }
  bar?.stop();
  model.eval();
  optimizer.zeroGrad();
  return { records, optimizer, scheduler, cursor };
}

/**
 * Mean teacher-forced loss over `rows`, one row at a time (no padding in the mean), read
 * asynchronously so GPU backends work. Runs in eval mode (no dropout, so no draws from the dropout
 * generator) and puts the model back in the mode it found it in.
 */
export async function validationLoss(model: LlamaForCausalLM, rows: readonly TokenizedExample[], padId: number): Promise<number> {
  const wasTraining = model.training;
  model.eval();
  try {
    let sum = 0;
    for (const row of rows) {
      const loss = noGrad(() =>
        tidy(() => {
          const b = batchTensors([row], padId);
          return model.forward(b.ids, { labels: b.labels }).loss!;
        }),
      );
      sum += (await loss.data())[0]!;
      loss.dispose();
    }
    return sum / rows.length;
  } finally {
    if (wasTraining) model.train();
  }
}
