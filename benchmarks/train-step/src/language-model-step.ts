// The timed unit of the Tessera rows (train-step.ts) and of lora-half-base.ts: one training step of a
// causal language model, in its own module because train-step.ts runs its benchmark when imported.
import { backward } from '@tessera/autograd';
import type { AdamW } from '@tessera/optim';
import { tidy, type Tensor } from '@tessera/tensor';

/** What a timed Tessera step needs of a model: the causal-LM loss of `input` against labels. */
export interface LanguageModel {
  forward(input: Tensor, opts: { labels: Tensor }): { loss?: Tensor | null };
}

/**
 * One Tessera training step on `input` as its own labels: forward + loss + backward in a tidy scope
 * (freeing every intermediate), then the optimizer update; returns the loss read back, so a lazy
 * backend finishes the step before the clock stops.
 */
export function languageModelStep(model: LanguageModel, opt: AdamW, input: Tensor): () => number {
  return () => {
    opt.zeroGrad();
    const loss = tidy(() => {
      const l = model.forward(input, { labels: input }).loss!;
      backward(l);
      return l;
    });
    opt.step();
    const v = loss.dataSync()[0]!;
    loss.dispose();
    return v;
  };
}
