// Reductions over any set of axes. sum, max and min are primitives; mean, logsumexp and variance are
// composites whose gradients come from their decompositions.
import { isFloat, type DType } from '../dtype.js';
import { apply, defineOp, type PrimitiveDef, type VjpRule } from '../op.js';
import { normalizeAxes, normalizeAxis, reducedShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, div, eq, mul, sub } from './binary.js';
import { cast } from './cast.js';
import { detach } from './detach.js';
import { expand } from './expand.js';
import { exp, log } from './unary.js';
import { reshape } from './view.js';

/** Attributes of a reduction: normalised axes and whether reduced dims stay as size 1. */
export interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
}

function defineReduce(name: string, vjp: VjpRule<ReduceAttrs> | undefined, dtypeOf: (d: DType) => DType): PrimitiveDef<ReduceAttrs> {
  return defineOp<ReduceAttrs>({
    name,
    kind: 'primitive',
    differentiable: vjp !== undefined,
    ...(vjp ? { vjp } : {}),
    infer: ([x], { axes, keepDims }) => {
      if (name !== 'sum' && axes.some((a) => x!.shape[a] === 0)) {
        throw new RangeError(`${name}: cannot reduce over an empty dim (shape [${x!.shape.join(',')}], axes [${axes.join(',')}])`);
      }
      return { shape: reducedShape(x!.shape, axes, keepDims), dtype: dtypeOf(x!.dtype) };
    },
  });
}

/** dy reshaped so its reduced dims are size 1 again, then broadcast to the input's shape. */
function restore(dy: Tensor, x: Tensor, { axes }: ReduceAttrs): Tensor {
  return expand(reshape(dy, reducedShape(x.shape, axes, true)), x.shape);
}

// Ties share the gradient evenly, like PyTorch's amax/amin.
const extremumVjp: VjpRule<ReduceAttrs> = (dy, { inputs: [x], output, attrs }) => {
  const hit = cast(eq(x!, restore(output, x!, attrs)), dy.dtype);
  const count = apply(sumOp, [hit], { axes: attrs.axes, keepDims: true });
  return [mul(restore(dy, x!, attrs), div(hit, count))];
};

const sumDtype = (d: DType): DType => (d === 'bool' || d === 'u8' ? 'i32' : d);

export const sumOp = defineReduce('sum', (dy, { inputs: [x], attrs }) => [restore(dy, x!, attrs)], sumDtype);
export const maxOp = defineReduce('max', extremumVjp, (d) => d);
export const minOp = defineReduce('min', extremumVjp, (d) => d);

/** Index of the largest (argmax) or smallest (argmin) value along one axis; the first on ties. */
export const argmaxOp = defineReduce('argmax', undefined, () => 'i32');
export const argminOp = defineReduce('argmin', undefined, () => 'i32');

type Axes = number | readonly number[] | undefined;

function attrs(x: Tensor, axes: Axes, keepDims: boolean, where: string): ReduceAttrs {
  return { axes: normalizeAxes(axes, x.rank, where), keepDims };
}

/** Sum over axes (all when omitted). */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return apply(sumOp, [x], attrs(x, axes, keepDims, 'sum'));
}

/** Largest value over axes (all when omitted). */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return apply(maxOp, [x], attrs(x, axes, keepDims, 'max'));
}

/** Smallest value over axes (all when omitted). */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return apply(minOp, [x], attrs(x, axes, keepDims, 'min'));
}

function argReduce(op: PrimitiveDef<ReduceAttrs>, x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  if (axis === undefined) return apply(op, [reshape(x, [-1])], { axes: [0], keepDims: false });
  return apply(op, [x], { axes: [normalizeAxis(axis, x.rank, op.name)], keepDims });
}

/** Index of the largest value along `axis` (of the flattened tensor when omitted). */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce(argmaxOp, x, axis, keepDims);
}

/** Index of the smallest value along `axis` (of the flattened tensor when omitted). */
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce(argminOp, x, axis, keepDims);
}

function countOf(x: Tensor, axes: readonly number[]): number {
  return axes.reduce((n, a) => n * x.shape[a]!, 1);
}

/** Mean over axes: sum / count. */
export const meanOp = defineOp<ReduceAttrs>({
  name: 'mean',
  kind: 'composite',
  differentiable: true,
  decompose: ([x], a) => div(apply(sumOp, [x!], a), countOf(x!, a.axes)),
});

/** Mean over axes (all when omitted); integers give f32. */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const input = isFloat(x.dtype) ? x : cast(x, 'f32');
  return apply(meanOp, [input], attrs(input, axes, keepDims, 'mean'));
}

/** log(sum(exp(x))) over axes, shifted by the (detached) max so it never overflows. */
export const logsumexpOp = defineOp<ReduceAttrs>({
  name: 'logsumexp',
  kind: 'composite',
  differentiable: true,
  decompose: ([x], a) => {
    const m = detach(apply(maxOp, [x!], { axes: a.axes, keepDims: true }));
    const s = log(apply(sumOp, [exp(sub(x!, m))], { axes: a.axes, keepDims: true }));
    const out = add(s, m);
    return a.keepDims ? out : reshape(out, reducedShape(x!.shape, a.axes, false));
  },
});

/** log(sum(exp(x))) over axes, computed stably. */
export function logsumexp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return apply(logsumexpOp, [x], attrs(x, axes, keepDims, 'logsumexp'));
}

/** Variance over axes with Bessel's correction (`correction` = 1 by default, as torch.var). */
export const varianceOp = defineOp<ReduceAttrs & { correction: number }>({
  name: 'variance',
  kind: 'composite',
  differentiable: true,
  decompose: ([x], a) => {
    const n = countOf(x!, a.axes);
    const centred = sub(x!, div(apply(sumOp, [x!], { axes: a.axes, keepDims: true }), n));
    const ss = apply(sumOp, [mul(centred, centred)], { axes: a.axes, keepDims: a.keepDims });
    return div(ss, Math.max(0, n - a.correction));
  },
});

/** Variance over axes (all when omitted); `correction` 1 gives the unbiased estimate, 0 the population variance. */
export function variance(x: Tensor, axes?: Axes, keepDims = false, correction = 1): Tensor {
  const input = isFloat(x.dtype) ? x : cast(x, 'f32');
  return apply(varianceOp, [input], { ...attrs(input, axes, keepDims, 'variance'), correction });
}
