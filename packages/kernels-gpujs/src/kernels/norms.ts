// Fused layerNorm and rmsNorm over the last dim: the rows' statistics (row-stats.ts), then one
// elementwise pass applying them with the optional weight and bias (broadcast over the rows).
import { viewOfHandle, type GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';
import { rowStat } from './row-stats.js';

/** (x - mean) / sqrt(var + eps) [* weight] [+ bias] over the last dim. */
export const layerNormKernel: GpuJsKernel<{ eps: number; hasWeight: boolean; hasBias: boolean }> = (ctx, [x, ...rest], { eps, hasWeight, hasBias }, out) => {
  const axis = x!.shape.length - 1;
  const rows = x!.shape.map((d, i) => (i === axis ? 1 : d));
  const mean = rowStat(ctx, 'layerNorm', x!, axis, 'mean');
  const rstd = rowStat(ctx, 'layerNorm', x!, axis, 'rstd', eps);
  let expr = '(v0 - v1) * v2';
  if (hasWeight) expr = `${expr} * v3`;
  if (hasBias) expr = `${expr} + v${hasWeight ? 4 : 3}`;
  const y = launchMap(ctx, 'layerNorm', [x!, viewOfHandle(mean, rows), viewOfHandle(rstd, rows), ...rest], out.shape, expr);
  ctx.free(mean);
  ctx.free(rstd);
  return y;
};

/** x / sqrt(mean(x²) + eps) [* weight] over the last dim. */
export const rmsNormKernel: GpuJsKernel<{ eps: number; hasWeight: boolean }> = (ctx, [x, ...rest], { eps, hasWeight }, out) => {
  const axis = x!.shape.length - 1;
  const rows = x!.shape.map((d, i) => (i === axis ? 1 : d));
  const rrms = rowStat(ctx, 'rmsNorm', x!, axis, 'rrms', eps);
  const y = launchMap(ctx, 'rmsNorm', [x!, viewOfHandle(rrms, rows), ...rest], out.shape, hasWeight ? 'v0 * v1 * v2' : 'v0 * v1');
  ctx.free(rrms);
  return y;
};
