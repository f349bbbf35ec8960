import { promoteTypes, type DType } from '../dtype.js';
import { apply, defineOp, type PrimitiveDef } from '../op.js';
import { broadcastShapes, fmtShape, numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { transpose } from './permute.js';
import { squeeze, unsqueeze } from './squeeze.js';
import { reshape } from './view.js';

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
  // dA = dY B^T, dB = A^T dY (the engine sums batched gradients over broadcast batch dims; an operand shared
  // by the whole batch gets the batch folded into one product instead); cast back where an f16/bf16
  // operand met an f32 one.
  vjp: (dy, { inputs: [a, b], needsGrad }) => [
    needsGrad[0] ? castTo(gradOfA(dy, a!, b!), a!.dtype) : null,
    needsGrad[1] ? castTo(gradOfB(dy, a!, b!), b!.dtype) : null,
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

/** dA = dY Bᵀ; for an A every batch entry shares, Σ_i dY_i B_iᵀ = (dYᵀ as rows)ᵀ (Bᵀ as rows). */
function gradOfA(dy: Tensor, a: Tensor, b: Tensor): Tensor {
  return (sharedByBatch(a, dy) && foldedProduct(transpose(dy), transpose(b), a)) || apply(matmulOp, [dy, transpose(b)], undefined);
}

/** dB = Aᵀ dY; for a B every batch entry shares (x @ W with x (B, T, C)), Σ_i A_iᵀ dY_i = (A as rows)ᵀ (dY as rows). */
function gradOfB(dy: Tensor, a: Tensor, b: Tensor): Tensor {
  return (sharedByBatch(b, dy) && foldedProduct(a, dy, b)) || apply(matmulOp, [transpose(a), dy], undefined);
}

/** True when `x` is one matrix that every entry of a batch of several used (its batch dims are all 1, or absent). */
function sharedByBatch(x: Tensor, dy: Tensor): boolean {
  return numel(dy.shape.slice(0, -2)) > 1 && numel(x.shape.slice(0, -2)) === 1;
}

/** Elements `reshape` copies: none for a contiguous tensor, all of them otherwise. */
const reshapeCopies = (x: Tensor): number => (x.isContiguous ? 0 : x.size);

/**
 * Σ over the batch of lhs_iᵀ rhs_i, for lhs (..., R, P) and rhs (..., R, Q) with the same batch, as
 * ONE product with the batch folded into the contraction: lhs and rhs seen as (batch·R, P) and
 * (batch·R, Q) (PyTorch folds the same way). The batched form would build a (batch, P, Q) gradient
 * only for the engine to sum it; on the GPT's tied head that is (8, 256, 4096). Returns null, so the
 * batched form runs, where making lhs and rhs contiguous would copy more elements than that batched
 * gradient holds (a small shared matrix against long transposed operands).
 */
function foldedProduct(lhs: Tensor, rhs: Tensor, operand: Tensor): Tensor | null {
  const p = lhs.shape[lhs.rank - 1]!;
  const q = rhs.shape[rhs.rank - 1]!;
  const rows = numel(lhs.shape.slice(0, -1));
  if (reshapeCopies(lhs) + reshapeCopies(rhs) > numel(lhs.shape.slice(0, -2)) * p * q) return null;
  const l2 = reshape(lhs, [rows, p]);
  const r2 = reshape(rhs, [rows, q]);
  // The gradient of W.T (nn.Linear's weight, a LoRA factor) in W's layout: (Q, P) computed dense and
  // handed back transposed, so W.grad arrives dense (the fused AdamW update takes only dense gradients).
  if (operand.rank === 2 && !operand.isContiguous && transpose(operand).isContiguous) return transpose(apply(matmulOp, [transpose(r2), l2], undefined));
  return reshape(apply(matmulOp, [transpose(l2), r2], undefined), operand.shape); // (P, Q)
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
