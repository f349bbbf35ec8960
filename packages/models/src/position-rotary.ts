import { RotaryEmbedding, ropeInverseFrequencies, type Llama3RopeScaling } from '@tessera/nn';
import { cast, concat, cos, isFloat, mul, reshape, sin, tensor, unsqueeze, type DType, type Tensor } from '@tessera/tensor';

/**
 * Rotary tables for explicit position ids, one row of positions per batch row: left-padded
 * batches need them (each row counts positions from its first real token), which the shared
 * (T, D) tables of nn's RotaryEmbedding cannot express. Attention asks `tables(t, offset)`; this
 * answers with the (B, 1, T, D) tables it was built with, which broadcast over the heads.
 */
export class PositionRotary extends RotaryEmbedding {
  readonly cos: Tensor;
  readonly sin: Tensor;

  /**
   * Tables for `positions` (B, T) or (1, T) integers. Angles are computed in f32 from f32 inverse
   * frequencies, exactly the arithmetic of transformers' LlamaRotaryEmbedding, so logits match it
   * to rounding; then cast to the activations' dtype as transformers does.
   */
  constructor(dim: number, theta: number, scaling: Llama3RopeScaling | null, positions: Tensor, dtype: DType) {
    super(dim, theta, scaling ?? undefined, positions.device);
    const [b, t] = positions.shape as [number, number];
    const inv = tensor(Float32Array.from(f32InverseFrequencies(dim, theta, scaling)), { device: positions.device });
    const angles = mul(reshape(cast(positions, 'f32'), [b, t, 1]), inv); // (B, T, D/2)
    const emb = concat([angles, angles], -1); // (B, T, D)
    const out = isFloat(dtype) && dtype !== 'f32' ? dtype : 'f32';
    this.cos = unsqueeze(cast(cos(emb), out), 1); // (B, 1, T, D)
    this.sin = unsqueeze(cast(sin(emb), out), 1);
  }

  /** The tables this was built with, whatever length and offset attention asks for (positions are explicit). */
  override tables(): { cos: Tensor; sin: Tensor } {
    return { cos: this.cos, sin: this.sin };
  }
}

/** Inverse frequencies (with Llama 3 scaling) rounded to f32, as torch holds them; within an ulp of torch's f32 arithmetic. */
export function f32InverseFrequencies(dim: number, theta: number, scaling: Llama3RopeScaling | null): number[] {
  return ropeInverseFrequencies(dim, theta, scaling ?? undefined).map(Math.fround);
}
