// Fused rmsNorm over the last dim and its input gradient (composites of @tessera/tensor): one lane at
// a time in double precision, rounded once on store. Where x is f32 the decomposition rounds the
// normalised value (forward) and dy * weight (backward) to f32 before going on; so do these, so the
// fused result stays within an ulp or two of the decomposition's.
import { numel, type TensorView } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { forEachLane } from '../lane-walk.js';
import { layout } from './softmax.js';

type RmsNormAttrs = { eps: number; hasWeight: boolean };

const identity = (v: number): number => v;

/** 1 / sqrt(mean(x^2) + eps) over a lane. */
function laneRstd(x: ArrayLike<number>, i: number, s: number, n: number, eps: number): number {
  let sq = 0;
  for (let t = 0; t < n; t++, i += s) sq += x[i]! * x[i]!;
  return 1 / Math.sqrt(sq / n + eps);
}

/** x * rstd (rounded to x's dtype) * weight over the last dim; the weight is optional. */
export const rmsNormKernel: CpuKernel<RmsNormAttrs> = (inputs, { eps, hasWeight }, out) => {
  const x = inputs[0]!;
  const w = hasWeight ? inputs[1]! : null;
  const axis = out.shape.length - 1;
  const n = out.shape[axis]!;
  const dst = resultArray(out.dtype, numel(out.shape));
  const { strides, starts } = layout(w ? [x, w] : [x], out.shape);
  const src = dataOf(x);
  const wd = w ? dataOf(w) : null;
  const round = x.dtype === 'f32' ? Math.fround : identity;
  const [so, sx] = strides.map((s) => s[axis]!) as [number, number];
  const sw = w ? strides[2]![axis]! : 0;
  forEachLane(out.shape, axis, strides, starts, (offs) => {
    const rstd = laneRstd(src, offs[1]!, sx, n, eps);
    let p = offs[0]!;
    let q = offs[1]!;
    if (wd) {
      for (let t = 0, r = offs[2]!; t < n; t++, p += so, q += sx, r += sw) dst[p] = round(src[q]! * rstd) * wd[r]!;
    } else {
      for (let t = 0; t < n; t++, p += so, q += sx) dst[p] = src[q]! * rstd;
    }
  });
  return dst;
};

/** rmsNorm's input gradient: rstd * (g - xhat * mean(g * xhat)), g = dy * weight rounded to x's dtype. */
export const rmsNormBackwardKernel: CpuKernel<RmsNormAttrs> = (inputs, { eps, hasWeight }, out) => {
  const [x, dy] = inputs as [TensorView, TensorView];
  const w = hasWeight ? inputs[2]! : null;
  const axis = out.shape.length - 1;
  const n = out.shape[axis]!;
  const dst = resultArray(out.dtype, numel(out.shape));
  const { strides, starts } = layout(w ? [x, dy, w] : [x, dy], out.shape);
  const src = dataOf(x);
  const gd = dataOf(dy);
  const wd = w ? dataOf(w) : null;
  const round = x.dtype === 'f32' ? Math.fround : identity;
  const [so, sx, sg] = strides.map((s) => s[axis]!) as [number, number, number];
  const sw = w ? strides[3]![axis]! : 0;
  forEachLane(out.shape, axis, strides, starts, (offs) => {
    const rstd = laneRstd(src, offs[1]!, sx, n, eps);
    let gx = 0;
    for (let t = 0, q = offs[1]!, r = offs[2]!, v = w ? offs[3]! : 0; t < n; t++, q += sx, r += sg, v += sw) {
      gx += round(wd ? gd[r]! * wd[v]! : gd[r]!) * src[q]!;
    }
    // mean(g * xhat) * rstd = mean(g * x) * rstd^2: the factor xhat carries into the second term.
    const k = (gx / n) * rstd * rstd;
    for (let t = 0, p = offs[0]!, q = offs[1]!, r = offs[2]!, v = w ? offs[3]! : 0; t < n; t++, p += so, q += sx, r += sg, v += sw) {
      const g = round(wd ? gd[r]! * wd[v]! : gd[r]!);
      dst[p] = rstd * (g - src[q]! * k);
    }
  });
  return dst;
};
