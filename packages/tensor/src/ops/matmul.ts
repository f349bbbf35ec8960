import { promoteTypes, type DType } from '../dtype.js';
import { apply, defineOp, type PrimitiveDef } from '../op.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { transpose } from './permute.js';
import { squeeze, unsqueeze } from './squeeze.js';

/**
 * Batched matrix product of a (..., M, K) and b (..., K, N) with broadcast batch dims. Kernels take
 * strided operands, so a transposed view (`b.T`) multiplies without a copy.
 */
export const matmulOp: PrimitiveDef<undefined> = defineOp<undefined>({
  name: 'matmul',
  kind: 'primitive',
  differentiable: true,
  infer: ([a, b]) => {
    if (a!.rank < 2 || b!.rank < 2) throw new RangeError(`matmul: operands need rank >= 2 here (a: ${fmtShape(a!.shape)}, b: ${fmtShape(b!.shape)})`);
    const m = a!.shape[a!.rank - 2]!;
    const k = a!.shape[a!.rank - 1]!;
    const k2 = b!.shape[b!.rank - 2]!;
    const n = b!.shape[b!.rank - 1]!;
    if (k !== k2) {
      throw new RangeError(
        `matmul: inner dimensions differ (a: ${fmtShape(a!.shape)}, b: ${fmtShape(b!.shape)}); expected a.shape[-1] === b.shape[-2] (${k} vs ${k2})`,
      );
    }
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2), 'matmul (batch dims)');
    // Mixed dtypes only reach here from `matmul` on a backend that reads f16/bf16 directly.
    return { shape: [...batch, m, n], dtype: promoteTypes(a!.dtype, b!.dtype) };
  },
  // dA = dY B^T, dB = A^T dY (the engine sums over broadcast batch dims); cast back where an f16/bf16
  // operand met an f32 one.
  vjp: (dy, { inputs: [a, b], needsGrad }) => [
    needsGrad[0] ? castTo(apply(matmulOp, [dy, transpose(b!)], undefined), a!.dtype) : null,
    needsGrad[1] ? castTo(apply(matmulOp, [transpose(a!), dy], undefined), b!.dtype) : null,
  ],
});

const castTo = (t: Tensor, dtype: DType): Tensor => (t.dtype === dtype ? t : cast(t, dtype));

/**
 * True when `x` goes into the product as it is: it already has the product's dtype, or it is f16/bf16
 * in an f32 product and the backend's matmul kernel converts it while packing (no f32 copy of a frozen
 * half-precision weight).
 */
function passesAsIs(x: Tensor, dtype: DType): boolean {
  if (x.dtype === dtype) return true;
  return dtype === 'f32' && (x.dtype === 'f16' || x.dtype === 'bf16') && x.storage.backend.halfInputs?.has(matmulOp) === true;
}

/** Matrix product with NumPy/PyTorch semantics: 1-D operands are promoted to a row / column and squeezed back. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) throw new RangeError(`matmul: scalars have no matrix product (a: ${fmtShape(a.shape)}, b: ${fmtShape(b.shape)}); use mul`);
  const dtype = promoteTypes(a.dtype, b.dtype);
  const ca = passesAsIs(a, dtype) ? a : cast(a, dtype);
  const cb = passesAsIs(b, dtype) ? b : cast(b, dtype);
  const a2 = a.rank === 1 ? unsqueeze(ca, 0) : ca;
  const b2 = b.rank === 1 ? unsqueeze(cb, 1) : cb;
  let out = apply(matmulOp, [a2, b2], undefined);
  if (a.rank === 1) out = squeeze(out, -2);
  if (b.rank === 1) out = squeeze(out, -1);
  return out;
}
