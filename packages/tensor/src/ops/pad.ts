import { apply, defineOp } from '../op.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sliceOp } from './slice.js';

/** Per dim: elements added before, after, and between neighbours (interior, as XLA's pad). */
export type PadSpec = [before: number, after: number, interior: number];

/** A copy with `value` added around (and between) elements along each dim. */
export const padOp = defineOp<{ pads: PadSpec[]; value: number }>({
  name: 'pad',
  kind: 'primitive',
  differentiable: true,
  infer: ([x], { pads }) => {
    if (pads.length !== x!.rank) throw new RangeError(`pad: ${pads.length} pad entries for a tensor of rank ${x!.rank} (shape ${fmtShape(x!.shape)})`);
    const shape = x!.shape.map((d, i) => {
      const [b, a, interior] = pads[i]!;
      return b + a + d + Math.max(0, d - 1) * interior;
    });
    return { shape, dtype: x!.dtype };
  },
  // The gradient picks the original elements back out of dy.
  vjp: (dy, { inputs: [x], attrs: { pads } }) => {
    let g = dy;
    pads.forEach(([before, , interior], axis) => {
      if (before === 0 && interior === 0 && g.shape[axis] === x!.shape[axis]) return;
      g = apply(sliceOp, [g], { axis, start: before, size: x!.shape[axis]!, step: interior + 1 });
    });
    return [g];
  },
});

/**
 * Pads with `value`: `pads[i] = [before, after]` for dim i, for the last `pads.length` dims
 * (earlier dims are not padded). All counts must be non-negative.
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length > x.rank) throw new RangeError(`pad: ${pads.length} pad pairs for a tensor of rank ${x.rank}; give at most one pair per dim`);
  const full: PadSpec[] = x.shape.map(() => [0, 0, 0]);
  pads.forEach(([b, a], i) => {
    if (!Number.isInteger(b) || !Number.isInteger(a) || b < 0 || a < 0) {
      throw new RangeError(`pad: pad pair [${b}, ${a}] must be non-negative integers; use slice to crop`);
    }
    full[x.rank - pads.length + i] = [b, a, 0];
  });
  if (full.every(([b, a]) => b === 0 && a === 0)) return x;
  return apply(padOp, [x], { pads: full, value });
}
