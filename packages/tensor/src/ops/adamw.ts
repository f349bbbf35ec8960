import type { AdamWOperands, AdamWResolved, Backend, StorageBlock } from '../backend.js';
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
    const r = resolveAdamW(h);
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

/** One parameter's operands and hyperparameters for adamwSteps. */
export interface AdamWStepItem {
  param: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  hyper: AdamWHyper;
}

/**
 * AdamW over many parameters at once (torch's foreach/fused AdamW): each backend with a multi-tensor
 * update (Backend.adamwUpdateMany) gets all its parameters in one call, so the update costs a constant
 * number of dispatches rather than some per parameter; the rest go through adamwStep one by one.
 * `use(i, result)` receives item i's new param, m and v as each is ready (so an unfused update's
 * temporaries can be let go before the next); m and v may be views into a storage shared by several.
 */
export function adamwSteps(items: readonly AdamWStepItem[], use: (index: number, result: { param: Tensor; m: Tensor; v: Tensor }) => void): void {
  const byBackend = new Map<Backend, number[]>();
  items.forEach((it, i) => {
    const backend = it.param.storage.backend;
    if (!backend.adamwUpdateMany || [it.grad, it.m, it.v].some((t) => t.storage.backend !== backend)) return;
    byBackend.set(backend, [...(byBackend.get(backend) ?? []), i]);
  });
  const done = new Set<number>();
  for (const [backend, indices] of byBackend) {
    const operands: AdamWOperands[] = indices.map((i) => ({ ...items[i]!, h: resolveAdamW(items[i]!.hyper) }));
    const fused = backend.adamwUpdateMany!(operands);
    indices.forEach((i, k) => {
      const r = fused[k];
      if (!r) return;
      const shape = items[i]!.param.shape;
      const wrap = (b: StorageBlock): Tensor => new Tensor(b.storage, shape, contiguousStrides(shape), b.offset, items[i]!.param.dtype);
      done.add(i);
      use(i, { param: wrap(r.param), m: wrap(r.m), v: wrap(r.v) });
    });
  }
  items.forEach((it, i) => {
    if (!done.has(i)) use(i, adamwStep(it.param, it.grad, it.m, it.v, it.hyper));
  });
}

function resolveAdamW(h: AdamWHyper): AdamWResolved {
  const beta1 = h.beta1 ?? 0.9;
  const beta2 = h.beta2 ?? 0.999;
  return { lr: h.lr, beta1, beta2, eps: h.eps ?? 1e-8, weightDecay: h.weightDecay ?? 0.01, bc1: 1 - beta1 ** h.step, bc2: 1 - beta2 ** h.step };
}
