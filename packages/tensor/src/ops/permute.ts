import { apply, defineOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Reorders dimensions by permuting strides (no copy). */
export const permuteOp = defineOp<{ dims: number[] }>({
  name: 'permute',
  kind: 'view',
  differentiable: true,
  layout: (x, { dims }) => ({
    shape: dims.map((d) => x.shape[d]!),
    strides: dims.map((d) => x.strides[d]!),
    offset: x.offset,
  }),
  vjp: (dy, { attrs: { dims } }) => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return [permute(dy, inverse)];
  },
});

/** Dimensions reordered: output dim i is input dim dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const norm = dims.map((d) => normalizeAxis(d, x.rank, 'permute'));
  if (norm.length !== x.rank || new Set(norm).size !== x.rank) {
    throw new RangeError(`permute: dims [${dims.join(',')}] must be a permutation of 0..${x.rank - 1} for shape [${x.shape.join(',')}]`);
  }
  if (norm.every((d, i) => d === i)) return x;
  return apply(permuteOp, [x], { dims: norm });
}

/** Swaps two dimensions (no copy). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const rank = x.rank;
  if (rank < 2 && a === -2 && b === -1) return x;
  const dims = Array.from({ length: rank }, (_, i) => i);
  const na = normalizeAxis(a, rank, 'transpose');
  const nb = normalizeAxis(b, rank, 'transpose');
  [dims[na], dims[nb]] = [dims[nb]!, dims[na]!];
  return permute(x, dims);
}
