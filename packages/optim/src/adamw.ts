import { adamwStep, tidy, withGradMode, zerosLike, type Tensor } from '@tessera/tensor';
import { Optimizer } from './optimizer.js';
import { toGroups, type ParamGroup } from './param-groups.js';

/** AdamW hyperparameters (PyTorch's defaults; weight decay 0.01). */
export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Put biases and norm weights in a group without decay (default true, as Hugging Face's Trainer does). */
  noDecayOnNormsAndBiases?: boolean;
}

/** AdamW (decoupled weight decay, bias-corrected moments) as torch.optim.AdamW computes it. */
export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;

  constructor(params: Iterable<[string, Tensor]> | ParamGroup[], opts: AdamWOptions) {
    const wd = opts.weightDecay ?? 0.01;
    super(toGroups(params, wd, opts.noDecayOnNormsAndBiases ?? true), opts.lr);
    for (const g of this.groups) g.weightDecay ??= wd;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
  }

  step(): void {
    this.stepCount++;
    withGradMode(false, () => {
      for (const g of this.groups) {
        for (const [name, p] of g.params) {
          if (!p.grad) continue;
          const prev = this.state.get(name);
          const m = prev?.m ?? zerosLike(p);
          const v = prev?.v ?? zerosLike(p);
          const next = tidy(() =>
            adamwStep(p, p.grad!, m, v, { lr: g.lr!, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps, weightDecay: g.weightDecay!, step: this.stepCount }),
          );
          p.assign(next.param);
          next.param.dispose();
          this.setState(name, { m: next.m, v: next.v });
          if (!prev) {
            m.dispose();
            v.dispose();
          }
        }
      }
    });
  }
}
