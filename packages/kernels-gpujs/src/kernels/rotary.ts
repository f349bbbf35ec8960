// Fused rotary embedding (rotate-half layout) and its gradient: one elementwise pass in which each
// element also reads its partner half a row away (c5 is the last output coordinate).
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';

/** Partner of element j: j + half (negated) in the first half, j - half in the second. */
const PARTNER = ['let h = P0;', 'let sgn = 1.0;', 'let off = 0.0 - h;', 'if (c5 < h) { sgn = -1.0; off = h; }'].join('\n');

/** x * cos + rotateHalf(x) * sin. */
export const rotaryForwardKernel: GpuJsKernel = (ctx, [x, cos, sin], _attrs, out) => {
  const setup = `${PARTNER}\nlet pi = i0 + off * P1;\nlet pv = x0[pi];`;
  return launchMap(ctx, 'rotary', [x!, cos!, sin!], out.shape, 'v0 * v1 + sgn * pv * v2', [out.shape.at(-1)! / 2, x!.strides.at(-1)!], setup);
};

/** dy * cos - rotateHalf(dy * sin): the gradient with respect to x. */
export const rotaryBackwardKernel: GpuJsKernel = (ctx, [dy, cos, sin], _attrs, out) => {
  const setup = `${PARTNER}\nlet pi = i0 + off * P1;\nlet pdy = x0[pi];\nlet si = i2 + off * P2;\nlet psin = x2[si];`;
  return launchMap(ctx, 'rotaryBackward', [dy!, cos!, sin!], out.shape, 'v0 * v1 - sgn * pdy * psin', [out.shape.at(-1)! / 2, dy!.strides.at(-1)!, sinStride(sin!.shape, sin!.strides)], setup);
};

/** sin's stride along the last dim as launchMap aligns it (0 where sin broadcasts there). */
function sinStride(shape: readonly number[], strides: readonly number[]): number {
  return shape.at(-1) === 1 ? 0 : strides.at(-1)!;
}
