import { isInt } from '../dtype.js';
import { apply, defineOp, type PrimitiveDef } from '../op.js';
import { fmtShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zerosLike } from './creation.js';
import { expand } from './expand.js';
import { reshape } from './view.js';

function checkIndex(where: string, x: Tensor, index: Tensor, axis: number): void {
  if (!isInt(index.dtype)) throw new TypeError(`${where}: index must be an integer tensor (got ${index.dtype}); cast it to i32`);
  if (index.rank !== x.rank) {
    throw new RangeError(`${where}: index ${fmtShape(index.shape)} must have the same rank as the input ${fmtShape(x.shape)}`);
  }
  index.shape.forEach((d, i) => {
    if (i !== axis && d > x.shape[i]!) {
      throw new RangeError(`${where}: index ${fmtShape(index.shape)} is larger than the input ${fmtShape(x.shape)} in dim ${i}`);
    }
  });
}

/** out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis` (torch.gather). */
export const gatherOp: PrimitiveDef<{ axis: number }> = defineOp<{ axis: number }>({
  name: 'gather',
  kind: 'primitive',
  differentiable: true,
  infer: ([x, index], { axis }) => {
    checkIndex('gather', x!, index!, axis);
    return { shape: index!.shape, dtype: x!.dtype };
  },
  vjp: (dy, { inputs: [x, index], attrs: { axis } }) => [apply(scatterAddOp, [zerosLike(x!), index!, dy], { axis }), null],
});

/** out = x; out[..., index[..., i, ...], ...] += src[..., i, ...] along `axis` (torch.scatter_add). */
export const scatterAddOp: PrimitiveDef<{ axis: number }> = defineOp<{ axis: number }>({
  name: 'scatterAdd',
  kind: 'primitive',
  differentiable: true,
  infer: ([x, index, src], { axis }) => {
    checkIndex('scatterAdd', x!, index!, axis);
    if (src!.rank !== index!.rank || src!.shape.some((d, i) => d !== index!.shape[i])) {
      throw new RangeError(`scatterAdd: src ${fmtShape(src!.shape)} must have the index's shape ${fmtShape(index!.shape)}`);
    }
    if (src!.dtype !== x!.dtype) throw new TypeError(`scatterAdd: src dtype ${src!.dtype} differs from the input's ${x!.dtype}; cast one`);
    return { shape: x!.shape, dtype: x!.dtype };
  },
  vjp: (dy, { inputs: [, index], attrs: { axis } }) => [dy, null, apply(gatherOp, [dy, index!], { axis })],
});

/** Picks elements along `axis` by an integer index tensor of the same rank (torch.gather). */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  return apply(gatherOp, [x, index], { axis: normalizeAxis(axis, x.rank, 'gather') });
}

/** Adds `src` into a copy of `x` at positions `index` along `axis` (torch.scatter_add). */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  return apply(scatterAddOp, [x, index, src], { axis: normalizeAxis(axis, x.rank, 'scatterAdd') });
}

/** Whole slices along `axis` picked by a 1-D index (embedding lookup: `indexSelect(table, 0, ids)`). */
export const indexSelectOp = defineOp<{ axis: number }>({
  name: 'indexSelect',
  kind: 'composite',
  differentiable: true,
  // A gather whose index is broadcast (stride 0) across the other dims: no index copy.
  decompose: ([x, ids], { axis }) => {
    const shape = x!.shape.map((d, i) => (i === axis ? ids!.size : d));
    const idxShape = x!.shape.map((_, i) => (i === axis ? ids!.size : 1));
    return apply(gatherOp, [x!, expand(reshape(ids!, idxShape), shape)], { axis });
  },
});

/** Slices of `x` along `axis` at the positions in `ids` (any shape; the result has ids' dims in place of axis). */
export function indexSelect(x: Tensor, axis: number, ids: Tensor): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'indexSelect');
  if (!isInt(ids.dtype)) throw new TypeError(`indexSelect: ids must be an integer tensor (got ${ids.dtype}); cast them to i32`);
  const flat = ids.rank === 1 ? ids : reshape(ids, [-1]);
  const out = apply(indexSelectOp, [x, flat], { axis: ax });
  if (ids.rank === 1) return out;
  return reshape(out, [...x.shape.slice(0, ax), ...ids.shape, ...x.shape.slice(ax + 1)]);
}

/** Rows of an embedding table for token ids of any shape: (..., ) -> (..., D). */
export function embedding(ids: Tensor, table: Tensor): Tensor {
  return indexSelect(table, 0, ids);
}
