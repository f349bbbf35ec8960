import type { AdamWResolved } from '../backend.js';
import { withGradMode } from '../grad-mode.js';
import { tidy } from '../memory.js';
import { Tensor } from '../tensor.js';
import { contiguousStrides } from '../shape.js';
import { add, div, mul, sub } from './binary.js';
import { sqrt } from './unary.js';

/** Hyperparameters of one AdamW step (PyTorch's names and defaults apart from lr). */
export interface AdamWHyper {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** 1-based step number, for bias correction. */
  step: number;
}

/**
 * One AdamW update (Loshchilov & Hutter; decoupled weight decay, bias-corrected moments), as
 * torch.optim.AdamW computes it. Returns new param, m and v; nothing is recorded for gradients.
 */
export function adamwStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamWHyper): { param: Tensor; m: Tensor; v: Tensor } {
  const beta1 = h.beta1 ?? 0.9;
  const beta2 = h.beta2 ?? 0.999;
  const eps = h.eps ?? 1e-8;
  const wd = h.weightDecay ?? 0.01;
  const backend = param.storage.backend;
  const sameBackend = [grad, m, v].every((t) => t.storage.backend === backend);
  if (backend.adamwUpdate && sameBackend) {
    const r: AdamWResolved = { lr: h.lr, beta1, beta2, eps, weightDecay: wd, bc1: 1 - beta1 ** h.step, bc2: 1 - beta2 ** h.step };
    const fused = backend.adamwUpdate(param, grad, m, v, r);
    if (fused) {
      const wrap = (s: typeof fused.param): Tensor => new Tensor(s, param.shape, contiguousStrides(param.shape), 0, param.dtype);
      return { param: wrap(fused.param), m: wrap(fused.m), v: wrap(fused.v) };
    }
  }
  return withGradMode(false, () =>
    tidy(() => {
      const m2 = add(mul(m, beta1), mul(grad, 1 - beta1));
      const v2 = add(mul(v, beta2), mul(mul(grad, grad), 1 - beta2));
      const bc1 = 1 - beta1 ** h.step;
      const bc2 = 1 - beta2 ** h.step;
      const decayed = wd !== 0 ? mul(param, 1 - h.lr * wd) : param;
      const denom = add(div(sqrt(v2), Math.sqrt(bc2)), eps);
      const p2 = sub(decayed, mul(div(m2, denom), h.lr / bc1));
      return { param: p2, m: m2, v: v2 };
    }),
  );
}
