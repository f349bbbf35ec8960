import { nf4Dequantize, nf4Linear, tensor, add, type Tensor } from '@tessera/tensor';
import { Module, type Linear } from '@tessera/nn';
import type { BaseLinear } from './lora-linear.js';
import { quantizeNf4, type Nf4Weight } from './nf4-quantize.js';

/**
 * A frozen linear layer whose weight is stored in NF4 (QLoRA's base): 4 bits per weight plus
 * double-quantised block scales. Forward runs the fused dequant-matmul, so the f32 weight is never
 * materialised whole; its gradient with respect to the input flows, the weight gets none.
 */
export class Nf4Linear extends Module implements BaseLinear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: Tensor | null;
  readonly computeDtype = 'f32' as const;
  readonly packed: Tensor;
  readonly scalesQ: Tensor;
  readonly scales2: Tensor;
  readonly #meta: Pick<Nf4Weight, 'shape' | 'offset' | 'scaleCode'>;

  constructor(w: Nf4Weight, bias: Tensor | null, device?: string) {
    super();
    const [outF, inF] = w.shape as [number, number];
    this.outFeatures = outF;
    this.inFeatures = inF;
    this.packed = this.buffer('weight_nf4', tensor(w.packed, { dtype: 'u8', device }));
    this.scalesQ = this.buffer('weight_nf4_scales', tensor(w.scalesQ, { dtype: 'u8', device }));
    this.scales2 = this.buffer('weight_nf4_scales2', tensor(w.scales2, { dtype: 'f32', device }));
    this.#meta = { shape: w.shape, offset: w.offset, scaleCode: w.scaleCode };
    this.bias = bias ? this.param('bias', bias, { frozen: true }) : null;
  }

  /** Quantises a Linear's weight (the dense weight can be disposed afterwards). */
  static fromLinear(l: Linear): Nf4Linear {
    const w = l.weight.cast('f32');
    const q = quantizeNf4(w.dataSync(), [...l.weight.shape]);
    if (w !== l.weight) w.dispose();
    return new Nf4Linear(q, l.bias, l.weight.device);
  }

  /** (..., in) -> (..., out) through the fused NF4 product. */
  forward(x: Tensor): Tensor {
    const y = nf4Linear(x, this.packed, this.scalesQ, this.scales2, this.#meta);
    return this.bias ? add(y, this.bias) : y;
  }

  /** The last dequantisation while it lives (see denseWeight). */
  #dense: Tensor | null = null;

  /**
   * The dequantised f32 weight (out, in), for DoRA's norm and base product. Borrowed, like a
   * Linear's weight from the same method: callers never dispose it. Calls reuse one dequantisation
   * while it lives; it belongs to the tidy() scope that made it (a training step), so the f32 weight
   * exists only for that step, and outside any scope the layer keeps that one copy until dispose().
   */
  denseWeight(): Tensor {
    if (!this.#dense || this.#dense.isDisposed) this.#dense = nf4Dequantize(this.packed, this.scalesQ, this.scales2, this.#meta);
    return this.#dense;
  }

  /** Frees the quantised buffers, the bias and any dequantised weight still alive. */
  override dispose(): void {
    if (this.#dense && !this.#dense.isDisposed) this.#dense.dispose();
    this.#dense = null;
    super.dispose();
  }

  /** A 4-bit weight cannot absorb an adapter exactly; merge into a dequantised copy instead. */
  addToWeight(): void {
    throw new Error('Nf4Linear: adapters cannot be merged into a 4-bit weight without re-quantising it; dequantise the model (or keep the adapter separate) to merge');
  }
}
