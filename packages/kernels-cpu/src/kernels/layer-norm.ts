// Fused layerNorm over the last dim and its input gradient (composites of @tessera/tensor): one lane
// at a time in double precision (mean, then the centred variance, as the decomposition computes
// them), rounded once on store.
import { numel } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { forEachLane } from '../lane-walk.js';
import { layout } from './softmax.js';

/** The lane's mean and 1 / sqrt(population variance + eps). */
function laneStats(x: ArrayLike<number>, i: number, s: number, n: number, eps: number): { mean: number; rstd: number } {
  let sum = 0;
  for (let t = 0, q = i; t < n; t++, q += s) sum += x[q]!;
  const mean = sum / n;
  let sq = 0;
  for (let t = 0, q = i; t < n; t++, q += s) {
    const c = x[q]! - mean;
    sq += c * c;
  }
  return { mean, rstd: 1 / Math.sqrt(sq / n + eps) };
}

/** (x - mean) * rstd * weight + bias over the last dim; weight and bias are optional inputs. */
export const layerNormKernel: CpuKernel<{ eps: number; hasWeight: boolean; hasBias: boolean }> = (inputs, { eps, hasWeight, hasBias }, out) => {
  const x = inputs[0]!;
  const w = hasWeight ? inputs[1]! : null;
  const b = hasBias ? inputs[hasWeight ? 2 : 1]! : null;
  const axis = out.shape.length - 1;
  const n = out.shape[axis]!;
  const dst = resultArray(out.dtype, numel(out.shape));
  const views = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  const { strides, starts } = layout(views, out.shape);
  const src = dataOf(x);
  const wd = w ? dataOf(w) : null;
  const bd = b ? dataOf(b) : null;
  const [so, sx] = strides.map((s) => s[axis]!) as [number, number];
  const sw = w ? strides[2]![axis]! : 0;
  const sb = b ? strides[w ? 3 : 2]![axis]! : 0;
  forEachLane(out.shape, axis, strides, starts, (offs) => {
    const { mean, rstd } = laneStats(src, offs[1]!, sx, n, eps);
    let p = offs[0]!;
    let q = offs[1]!;
    let r = w ? offs[2]! : 0;
    let u = b ? offs[w ? 3 : 2]! : 0;
    for (let t = 0; t < n; t++, p += so, q += sx, r += sw, u += sb) {
      let y = (src[q]! - mean) * rstd;
      if (wd) y *= wd[r]!;
      if (bd) y += bd[u]!;
      dst[p] = y;
    }
  });
  return dst;
};

/** layerNorm's input gradient: rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * weight. */
export const layerNormBackwardKernel: CpuKernel<{ eps: number; hasWeight: boolean }> = (inputs, { eps, hasWeight }, out) => {
  const [x, dy] = inputs as [typeof inputs[0], typeof inputs[0]];
  const w = hasWeight ? inputs[2]! : null;
  const axis = out.shape.length - 1;
  const n = out.shape[axis]!;
  const dst = resultArray(out.dtype, numel(out.shape));
  const { strides, starts } = layout(w ? [x!, dy!, w] : [x!, dy!], out.shape);
  const src = dataOf(x!);
  const gd = dataOf(dy!);
  const wd = w ? dataOf(w) : null;
  const [so, sx, sg] = strides.map((s) => s[axis]!) as [number, number, number];
  const sw = w ? strides[3]![axis]! : 0;
  forEachLane(out.shape, axis, strides, starts, (offs) => {
    const { mean, rstd } = laneStats(src, offs[1]!, sx, n, eps);
    let gSum = 0;
    let gxSum = 0;
    for (let t = 0, q = offs[1]!, r = offs[2]!, v = w ? offs[3]! : 0; t < n; t++, q += sx, r += sg, v += sw) {
      const g = wd ? gd[r]! * wd[v]! : gd[r]!;
      gSum += g;
      gxSum += g * (src[q]! - mean) * rstd;
    }
    const gMean = gSum / n;
    const gxMean = gxSum / n;
    for (let t = 0, p = offs[0]!, q = offs[1]!, r = offs[2]!, v = w ? offs[3]! : 0; t < n; t++, p += so, q += sx, r += sg, v += sw) {
      const g = wd ? gd[r]! * wd[v]! : gd[r]!;
      dst[p] = rstd * (g - gMean - (src[q]! - mean) * rstd * gxMean);
    }
  });
  return dst;
};
