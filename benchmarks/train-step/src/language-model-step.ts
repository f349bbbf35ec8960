// The timed unit of the Tessera rows (train-step.ts) and of lora-half-base.ts: one training step of a
// causal language model, in its own module because train-step.ts runs its benchmark when imported.
import { backward } from '@tessera/autograd';
import type { AdamW } from '@tessera/optim';
import { tidy, type Tensor } from '@tessera/tensor';

/** One result row of bench-train-step (results/latest.json). */
export interface BenchRow {
  peer: string;
  version: string;
  threads: number | string;
  parameters?: number;
  medianStepMs?: number;
  /** Process CPU time per step (all threads of the process running the step): steadier than wall time on a loaded machine. */
  medianStepCpuMs?: number;
  tokensPerSec?: number;
  firstLoss?: number;
  lastLoss?: number;
  notes: string;
  skipped?: string;
}

/** What a timed Tessera step needs of a model: the causal-LM loss of `input` against labels. */
export interface LanguageModel {
  forward(input: Tensor, opts: { labels: Tensor }): { loss?: Tensor | null };
}

/**
 * One Tessera training step on `input` as its own labels: forward + loss + backward in a tidy scope
 * (freeing every intermediate), then the optimizer update; returns the loss tensor, still to be read.
 */
function trainStep(model: LanguageModel, opt: AdamW, input: Tensor): Tensor {
  opt.zeroGrad();
  const loss = tidy(() => {
    const l = model.forward(input, { labels: input }).loss!;
    backward(l);
    return l;
  });
  opt.step();
  return loss;
}

/** The timed step for synchronous backends: the loss is read back, so a lazy backend finishes the step before the clock stops. */
export function languageModelStep(model: LanguageModel, opt: AdamW, input: Tensor): () => number {
  return () => {
    const loss = trainStep(model, opt, input);
    const v = loss.dataSync()[0]!;
    loss.dispose();
    return v;
  };
}

/** The same step for backends that can only read back asynchronously (gpu.js's WebGPU mode). */
export function languageModelStepAsync(model: LanguageModel, opt: AdamW, input: Tensor): () => Promise<number> {
  return async () => {
    const loss = trainStep(model, opt, input);
    const v = await loss.item();
    loss.dispose();
    return v;
  };
}
