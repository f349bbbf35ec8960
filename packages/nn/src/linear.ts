import { add, matmul, transpose, type Tensor } from '@tessera/tensor';
import { uniform, type InitOptions } from './init.js';
import { Module } from './module.js';

/** y = x Wᵀ + b with W of shape (out, in), PyTorch's layout and initialisation (U(±1/√in) for both). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  /**
   * A new layer (random init), or one adopting existing tensors (`weight`, `bias`): how wrappers
   * such as LoRA layers keep the base weights, their names and their requiresGrad flags.
   */
  constructor(inFeatures: number, outFeatures: number, opts: InitOptions & { bias?: boolean; weight?: Tensor; biasTensor?: Tensor | null } = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const bound = 1 / Math.sqrt(inFeatures);
    if (opts.weight) {
      if (opts.weight.rank !== 2 || opts.weight.shape[0] !== outFeatures || opts.weight.shape[1] !== inFeatures) {
        throw new RangeError(`Linear: weight [${opts.weight.shape.join(',')}] must be (out, in) = [${outFeatures},${inFeatures}]`);
      }
      this.weight = this.param('weight', opts.weight, { frozen: !opts.weight.requiresGrad });
      const b = opts.biasTensor ?? null;
      this.bias = b ? this.param('bias', b, { frozen: !b.requiresGrad }) : null;
      return;
    }
    this.weight = this.param('weight', uniform([outFeatures, inFeatures], -bound, bound, opts));
    this.bias = opts.bias === false ? null : this.param('bias', uniform([outFeatures], -bound, bound, opts));
  }

  /** (..., in) -> (..., out) */
  forward(x: Tensor): Tensor {
    const last = x.shape[x.rank - 1];
    if (last !== this.inFeatures) {
      throw new RangeError(`Linear: input [${x.shape.join(',')}] ends in ${last} but the layer takes ${this.inFeatures} features`);
    }
    const y = matmul(x, transpose(this.weight));
    return this.bias ? add(y, this.bias) : y;
  }
}
