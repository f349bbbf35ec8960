// Fused softmax and logSoftmax along any axis: the rows' log-sum-exp (row-stats.ts), then one
// elementwise pass, exp(x - lse) or x - lse.
import { viewOfHandle, type GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';
import { rowStat } from './row-stats.js';

function softmaxLike(name: string, expr: string): GpuJsKernel<{ axis: number }> {
  return (ctx, [x], { axis }, out) => {
    const lse = rowStat(ctx, name, x!, axis, 'lse');
    const rows = x!.shape.map((d, i) => (i === axis ? 1 : d));
    const y = launchMap(ctx, name, [x!, viewOfHandle(lse, rows)], out.shape, expr);
    ctx.free(lse);
    return y;
  };
}

/** softmax(x) along `axis`. */
export const softmaxKernel = softmaxLike('softmax', 'Math.exp(v0 - v1)');
/** logSoftmax(x) along `axis`. */
export const logSoftmaxKernel = softmaxLike('logSoftmax', 'v0 - v1');
