// Fused softmax and logSoftmax along any axis: the rows' log-sum-exp (row-stats.ts), then one
// elementwise pass, exp(x - lse) or x - lse.
import { viewOfHandle, type GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';
import { rowStat } from './row-stats.js';
import { expCode } from './scalar-functions.js';

function softmaxLike(name: string, expr: string, setup = ''): GpuJsKernel<{ axis: number }> {
  return (ctx, [x], { axis }, out) => {
    const lse = rowStat(ctx, name, x!, axis, 'lse');
    const rows = x!.shape.map((d, i) => (i === axis ? 1 : d));
    const y = launchMap(ctx, name, [x!, viewOfHandle(lse, rows)], out.shape, expr, [], setup);
    ctx.free(lse);
    return y;
  };
}

/** softmax(x) along `axis`; a NaN log-sum-exp (row-stats.ts) gives NaN, where WebGL's exp(NaN) is +∞. */
export const softmaxKernel = softmaxLike('softmax', 'r', `let d = v0 - v1;\n${expCode('d', 'r')}`);
/** logSoftmax(x) along `axis`. */
export const logSoftmaxKernel = softmaxLike('logSoftmax', 'v0 - v1');
