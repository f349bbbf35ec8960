// Fused layerNorm forward over the last dim: mean and variance in one workgroup per row, f32
// statistics, no temporaries. Held to the decomposition by test/fused.gpu.test.ts.
import type { GpuKernel } from '../gpu-kernel.js';
import { runRowNorm } from '../row-norm-dispatch.js';

/** (x - mean) / sqrt(var + eps) * weight + bias. */
export const layerNormKernel: GpuKernel<{ eps: number; hasWeight: boolean; hasBias: boolean }> = (ctx, inputs, { eps, hasWeight, hasBias }, out) =>
  runRowNorm(ctx, 'layer', inputs[0]!, hasWeight ? inputs[1] : undefined, hasBias ? inputs[hasWeight ? 2 : 1] : undefined, eps, out);
