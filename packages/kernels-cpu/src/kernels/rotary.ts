// Fused rotary embedding (rotate-half layout) and its input gradient (composites of @tessera/tensor):
// one pass over each last-dim lane reading the partner half directly, instead of the decomposition's
// two slices, a negation, a concat, two products and a sum. Double precision, rounded once on store.
import { fmtShape, numel, type TensorView } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { forEachLane } from '../lane-walk.js';
import { layout } from './softmax.js';

/** The lane length (even) and half of it; x must not broadcast along the last dim (rotateHalf slices it). */
function halves(op: string, x: TensorView, shape: readonly number[]): { n: number; half: number } {
  const n = shape[shape.length - 1]!;
  if (n % 2 !== 0 || x.shape[x.shape.length - 1] !== n) {
    throw new RangeError(`${op}: the last dim must be even and x's own (x ${fmtShape(x.shape)}, result ${fmtShape(shape)}); applyRotary checks this`);
  }
  return { n, half: n / 2 };
}

/** x * cos + rotateHalf(x) * sin, rotateHalf([x1, x2]) = [-x2, x1] over the last dim. */
export const rotaryKernel: CpuKernel<undefined> = ([x, cos, sin], _attrs, out) => {
  const dst = resultArray(out.dtype, numel(out.shape));
  if (numel(out.shape) === 0) return dst;
  const axis = out.shape.length - 1;
  const { half } = halves('rotary', x!, out.shape);
  const { strides, starts } = layout([x!, cos!, sin!], out.shape);
  const [xd, cd, sd] = [dataOf(x!), dataOf(cos!), dataOf(sin!)];
  const [so, sx, sc, ss] = strides.map((s) => s[axis]!) as [number, number, number, number];
  forEachLane(out.shape, axis, strides, starts, ([o, i, c, s]) => {
    for (let t = 0; t < half; t++) {
      const a = xd[i! + t * sx]!;
      const b = xd[i! + (t + half) * sx]!;
      dst[o! + t * so] = a * cd[c! + t * sc]! - b * sd[s! + t * ss]!;
      dst[o! + (t + half) * so] = b * cd[c! + (t + half) * sc]! + a * sd[s! + (t + half) * ss]!;
    }
  });
  return dst;
};

/** rotary's input gradient: dy * cos - rotateHalf(dy * sin). */
export const rotaryBackwardKernel: CpuKernel<undefined> = ([dy, cos, sin], _attrs, out) => {
  const dst = resultArray(out.dtype, numel(out.shape));
  if (numel(out.shape) === 0) return dst;
  const axis = out.shape.length - 1;
  const { half } = halves('rotaryBackward', dy!, out.shape);
  const { strides, starts } = layout([dy!, cos!, sin!], out.shape);
  const [gd, cd, sd] = [dataOf(dy!), dataOf(cos!), dataOf(sin!)];
  const [so, sg, sc, ss] = strides.map((s) => s[axis]!) as [number, number, number, number];
  forEachLane(out.shape, axis, strides, starts, ([o, i, c, s]) => {
    for (let t = 0; t < half; t++) {
      const a = gd[i! + t * sg]!;
      const b = gd[i! + (t + half) * sg]!;
      // -rotateHalf(u)[t] = u[t + half] for the first half, -u[t - half] for the second (u = dy * sin).
      dst[o! + t * so] = a * cd[c! + t * sc]! + b * sd[s! + (t + half) * ss]!;
      dst[o! + (t + half) * so] = b * cd[c! + (t + half) * sc]! - a * sd[s! + t * ss]!;
    }
  });
  return dst;
};
