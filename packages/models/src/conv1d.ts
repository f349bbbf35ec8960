import { Module, type InitOptions } from '@tessera/nn';
import { add, matmul, zeros, type Tensor } from '@tessera/tensor';

/** GPT-2's Conv1D: a linear layer whose weight is stored (in, out), so y = x @ W + b (HF checkpoints keep that layout). */
export class Conv1D extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(inFeatures: number, outFeatures: number, opts: InitOptions = {}) {
    super();
    // Filled by the owning model's init (or a loader); zeros draw no random numbers.
    this.weight = this.param('weight', zeros([inFeatures, outFeatures], { dtype: opts.dtype, device: opts.device }));
    this.bias = this.param('bias', zeros([outFeatures], { dtype: opts.dtype, device: opts.device }));
  }

  /** (..., in) -> (..., out) */
  forward(x: Tensor): Tensor {
    return add(matmul(x, this.weight), this.bias);
  }
}
