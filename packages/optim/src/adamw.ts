import { adamwSteps, withGradMode, zerosLike, type AdamWStepItem, type Tensor } from '@tessera/tensor';
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
      // Every parameter goes to adamwSteps in one call, so a backend with a multi-tensor update
      // (WebGPU) spends a constant number of dispatches on the whole step.
      const names: string[] = [];
      const fresh: boolean[] = [];
      const items: AdamWStepItem[] = [];
      for (const g of this.groups) {
        for (const [name, p] of g.params) {
          if (!p.grad) continue;
          const prev = this.state.get(name);
          names.push(name);
          fresh.push(!prev);
          const hyper = { lr: g.lr!, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps, weightDecay: g.weightDecay!, step: this.stepCount };
          items.push({ param: p, grad: p.grad, m: prev?.m ?? zerosLike(p), v: prev?.v ?? zerosLike(p), hyper });
        }
      }
      adamwSteps(items, (i, r) => {
        items[i]!.param.assign(r.param);
        r.param.dispose();
        this.setState(names[i]!, { m: r.m, v: r.v });
        if (fresh[i]) {
          items[i]!.m.dispose();
          items[i]!.v.dispose();
        }
      });
    });
  }
}
