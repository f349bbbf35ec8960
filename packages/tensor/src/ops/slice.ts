import { apply, defineOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { padOp } from './pad.js';

/** Elements start, start+step, ... below end along one axis, as a view. */
export const sliceOp = defineOp<{ axis: number; start: number; size: number; step: number }>({
  name: 'slice',
  kind: 'view',
  differentiable: true,
  layout: (x, { axis, start, size, step }) => {
    const shape = [...x.shape];
    const strides = [...x.strides];
    shape[axis] = size;
    strides[axis] = x.strides[axis]! * step;
    return { shape, strides, offset: x.offset + start * x.strides[axis]! };
  },
  block: ({ axis, start, size, step }) => (step === 1 ? { axis, start, size } : null),
  // The gradient puts dy back in place with zeros around and between the picked elements.
  vjp: (dy, { inputs: [x], attrs: { axis, start, size, step } }) => {
    const pads = x!.shape.map(() => [0, 0, 0] as [number, number, number]);
    const last = size === 0 ? start - 1 : start + (size - 1) * step;
    pads[axis] = size === 0 ? [0, x!.shape[axis]!, 0] : [start, x!.shape[axis]! - 1 - last, step - 1];
    return [apply(padOp, [dy], { pads, value: 0 })];
  },
});

/** Elements [start, end) with a positive step along `axis`; negative indices count from the end, out-of-range ones clip (as Python slices). */
export function slice(x: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'slice');
  const n = x.shape[ax]!;
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`slice: step must be a positive integer (got ${step})`);
  const clip = (i: number): number => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = clip(start);
  const e = end === undefined ? n : clip(end);
  const size = e > s ? Math.ceil((e - s) / step) : 0;
  if (s === 0 && size === n && step === 1) return x;
  return apply(sliceOp, [x], { axis: ax, start: size === 0 ? 0 : s, size, step });
}

/** `length` elements from `start` along `axis` (a clear error when out of range, as torch.narrow). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'narrow');
  const n = x.shape[ax]!;
  const s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n) {
    throw new RangeError(`narrow: start ${start} and length ${length} exceed dim ${axis} of size ${n} (shape [${x.shape.join(',')}])`);
  }
  return slice(x, ax, s, s + length);
}

/** Splits along `axis` into chunks of the given sizes, or into equal chunks of `sizeOrSizes` elements (the last may be smaller). */
export function split(x: Tensor, sizeOrSizes: number | readonly number[], axis = 0): Tensor[] {
  const ax = normalizeAxis(axis, x.rank, 'split');
  const n = x.shape[ax]!;
  let sizes: number[];
  if (typeof sizeOrSizes === 'number') {
    if (!Number.isInteger(sizeOrSizes) || sizeOrSizes <= 0) throw new RangeError(`split: chunk size must be a positive integer (got ${sizeOrSizes})`);
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSizes) sizes.push(Math.min(sizeOrSizes, n - s));
  } else {
    sizes = [...sizeOrSizes];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) throw new RangeError(`split: sizes [${sizes.join(',')}] sum to ${total} but dim ${axis} has ${n}`);
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const size of sizes) {
    out.push(apply(sliceOp, [x], { axis: ax, start, size, step: 1 }));
    start += size;
  }
  return out;
}
