import { layerNorm, rmsNorm, type Tensor } from '@tessera/tensor';
import { constant, type InitOptions } from './init.js';
import { Module } from './module.js';

/** LayerNorm over the last dim with a learned scale and shift. */
export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(readonly dim: number, readonly eps = 1e-5, opts: InitOptions & { elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.param('weight', constant([dim], 1, opts)) : null;
    this.bias = affine && opts.bias !== false ? this.param('bias', constant([dim], 0, opts)) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight ?? undefined, this.bias ?? undefined, this.eps);
  }
}

/** RMSNorm over the last dim (Llama's LlamaRMSNorm: computed in f32, scaled by a learned weight). */
export class RMSNorm extends Module {
  weight: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-6, opts: InitOptions = {}) {
    super();
    this.weight = this.param('weight', constant([dim], 1, opts));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
