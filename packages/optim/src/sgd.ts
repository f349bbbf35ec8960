import { add, mul, sub, tidy, withGradMode, type Tensor } from '@tessera/tensor';
import { Optimizer } from './optimizer.js';
import { toGroups, type ParamGroup } from './param-groups.js';

/** SGD hyperparameters (PyTorch's meaning: L2 weight decay added to the gradient). */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** Stochastic gradient descent with momentum and Nesterov momentum, as torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(params: Iterable<[string, Tensor]> | ParamGroup[], opts: SGDOptions) {
    super(toGroups(params, opts.weightDecay ?? 0, false), opts.lr);
    for (const g of this.groups) g.weightDecay ??= opts.weightDecay ?? 0;
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum requires momentum > 0 and dampening 0');
    }
  }

  step(): void {
    this.stepCount++;
    withGradMode(false, () => {
      for (const g of this.groups) {
        for (const [name, p] of g.params) {
          if (!p.grad) continue;
          const prev = this.state.get(name)?.buf;
          const out = tidy(() => {
            let d = g.weightDecay ? add(p.grad!, mul(p, g.weightDecay)) : p.grad!;
            let buf: Tensor | undefined;
            if (this.momentum !== 0) {
              buf = prev ? add(mul(prev, this.momentum), mul(d, 1 - this.dampening)) : d.clone();
              d = this.nesterov ? add(d, mul(buf, this.momentum)) : buf;
            }
            return { param: sub(p, mul(d, g.lr!)), buf };
          });
          p.assign(out.param);
          out.param.dispose();
          if (out.buf) this.setState(name, { buf: out.buf });
        }
      }
    });
  }
}
