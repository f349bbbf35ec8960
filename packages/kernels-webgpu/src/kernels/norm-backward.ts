// Fused layerNorm / rmsNorm backward with respect to x over the last dim: one workgroup per row
// recomputes mean and rstd (or the rms) from x in f32, reduces dy * weight against them and writes dx.
// The weight and bias gradients are dy * (unweighted forward) summed by the engine. Held to the
// decompositions by test/fused-backward-properties.ts.
import type { GpuKernel } from '../gpu-kernel.js';
import { runRowGrad } from '../row-grad-dispatch.js';

type Attrs = { eps: number; hasWeight: boolean };

/** rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * weight. */
export const layerNormBackwardKernel: GpuKernel<Attrs> = (ctx, [x, dy, w], { eps, hasWeight }, out) =>
  runRowGrad(ctx, 'layerNorm', x!, dy!, hasWeight ? w : undefined, x!.shape.length - 1, eps, out);
/** rstd * (g - xhat * mean(g * xhat)), g = dy * weight rounded to x's dtype, f32 math. */
export const rmsNormBackwardKernel: GpuKernel<Attrs> = (ctx, [x, dy, w], { eps, hasWeight }, out) =>
  runRowGrad(ctx, 'rmsNorm', x!, dy!, hasWeight ? w : undefined, x!.shape.length - 1, eps, out);
