// Fused softmax / logSoftmax backward along one axis: one workgroup per row recomputes the row max and
// sum of exponentials from x, reduces dy against them, and writes dx; no softmax is stored. Held to
// the decompositions by test/fused-backward-properties.ts.
import type { GpuKernel } from '../gpu-kernel.js';
import { runRowGrad } from '../row-grad-dispatch.js';

/** softmax(x) * (dy - sum(dy * softmax(x))). */
export const softmaxBackwardKernel: GpuKernel<{ axis: number }> = (ctx, [x, dy], { axis }, out) => runRowGrad(ctx, 'softmax', x!, dy!, undefined, axis, 0, out);
/** dy - softmax(x) * sum(dy). */
export const logSoftmaxBackwardKernel: GpuKernel<{ axis: number }> = (ctx, [x, dy], { axis }, out) => runRowGrad(ctx, 'logSoftmax', x!, dy!, undefined, axis, 0, out);
