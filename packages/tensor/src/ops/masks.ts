// Index-derived masks, built from arange and comparisons rather than new primitives.
import { isInt, type DType } from '../dtype.js';
import { tidy } from '../memory.js';
import { apply, defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { add, eq, ge, le, where } from './binary.js';
import { cast } from './cast.js';
import { arange, scalarLike } from './creation.js';
import { reshape } from './view.js';

/** One-hot vectors: integer classes of any shape -> (..., numClasses). */
export const oneHotOp = defineOp<{ numClasses: number; dtype: DType }>({
  name: 'oneHot',
  kind: 'composite',
  differentiable: false,
  decompose: ([ids], { numClasses, dtype }) => {
    const classes = arange(0, numClasses, 1, { device: ids!.device });
    return cast(eq(reshape(ids!, [...ids!.shape, 1]), classes), dtype);
  },
});

/** One-hot encoding of integer class ids (default dtype f32). */
export function oneHot(ids: Tensor, numClasses: number, dtype: DType = 'f32'): Tensor {
  if (!isInt(ids.dtype)) throw new TypeError(`oneHot: ids must be an integer tensor (got ${ids.dtype})`);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new RangeError(`oneHot: numClasses must be a positive integer (got ${numClasses})`);
  return apply(oneHotOp, [ids], { numClasses, dtype });
}

/** The bool mask of positions (i, j) of the last two dims with j - i <= k (lower) or >= k (upper). */
function triangleMask(x: Tensor, k: number, lower: boolean): Tensor {
  const rows = x.shape[x.rank - 2]!;
  const cols = x.shape[x.rank - 1]!;
  const i = reshape(arange(0, rows, 1, { device: x.device }), [rows, 1]);
  const j = arange(0, cols, 1, { device: x.device });
  const shifted = add(i, k);
  return lower ? le(j, shifted) : ge(j, shifted);
}

function triangle(name: 'tril' | 'triu') {
  return defineOp<{ k: number }>({
    name,
    kind: 'composite',
    differentiable: true,
    decompose: ([x], { k }) => where(triangleMask(x!, k, name === 'tril'), x!, scalarLike(0, x!)),
  });
}

export const trilOp = triangle('tril');
export const triuOp = triangle('triu');

function checkMatrix(x: Tensor, where: string): void {
  if (x.rank < 2) throw new RangeError(`${where}: needs a tensor of rank >= 2 (got shape [${x.shape.join(',')}])`);
}

/** Keeps the lower triangle (j <= i + k) of the last two dims, zeroes the rest. */
export function tril(x: Tensor, k = 0): Tensor {
  checkMatrix(x, 'tril');
  return apply(trilOp, [x], { k });
}

/** Keeps the upper triangle (j >= i + k) of the last two dims, zeroes the rest. */
export function triu(x: Tensor, k = 0): Tensor {
  checkMatrix(x, 'triu');
  return apply(triuOp, [x], { k });
}

/** Replaces elements where `mask` is true with `value` (mask broadcasts). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  if (mask.dtype !== 'bool') throw new TypeError(`maskedFill: mask must be bool (got ${mask.dtype})`);
  return where(mask, scalarLike(value, x), x);
}

/** The identity matrix (n x m). */
export function eye(n: number, m = n, opts?: { dtype?: DType; device?: string }): Tensor {
  return tidy(() => {
    const i = reshape(arange(0, n, 1, { device: opts?.device }), [n, 1]);
    const j = arange(0, m, 1, { device: opts?.device });
    return cast(eq(i, j), opts?.dtype ?? 'f32');
  });
}
