// Fused rmsNorm forward over the last dim (Llama's: normalised in f32, rounded to x's dtype, then
// scaled). Held to the decomposition by test/fused.gpu.test.ts.
import type { GpuKernel } from '../gpu-kernel.js';
import { runRowNorm } from '../row-norm-dispatch.js';

/** x / sqrt(mean(x²) + eps) * weight. */
export const rmsNormKernel: GpuKernel<{ eps: number; hasWeight: boolean }> = (ctx, inputs, { eps, hasWeight }, out) =>
  runRowNorm(ctx, 'rms', inputs[0]!, hasWeight ? inputs[1] : undefined, undefined, eps, out);
