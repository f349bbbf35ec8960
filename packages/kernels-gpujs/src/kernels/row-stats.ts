// Statistics of rows along one axis, one thread per row: the pieces the fused softmax, norm and
// cross-entropy kernels combine with one elementwise pass (two launches in all, O(size) work,
// instead of every element rescanning its row).
import { numel, type TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from '../gpujs-context.js';
import { handleOf } from '../gpujs-kernel.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, indexCode, kernelSource } from '../kernel-source.js';
import { expCode, extremeFoldCode, isNanCode } from './scalar-functions.js';

/** The statistic of a row: log-sum-exp, mean, 1/sqrt(variance + eps), 1/sqrt(mean square + eps). */
export type RowStat = 'lse' | 'mean' | 'rstd' | 'rrms';

// Table: row dims (axis kept as 1) at 0, x's layout over them at R, then the row length, the step
// along it and eps.
const lenAt = 2 * MAX_RANK + 1;
// Each loop names its own variables: gpu.js declares them all at function scope.
const LOOP = (n: number, body: string) => `for (let k${n} = 0; k${n} < m[${lenAt}]; k${n}++) {\nlet xi${n} = b + (k${n} * 1.0) * m[${lenAt + 1}];\nlet xv${n} = x0[xi${n}];\n${body.replaceAll('xv', `xv${n}`)}\n}`;
const BODIES: Record<RowStat, string> = {
  // The CPU backend's rule: a row holding NaN, or whose max is infinite (+∞, or every element -∞),
  // has a NaN log-sum-exp. GLSL's max and exp are undefined on NaN (SwiftShader's exp(NaN) is +∞, its
  // log(NaN) finite), so the max folds NaN in explicitly, exp passes it, and a NaN sum (x - max is NaN
  // at the max itself when that max is NaN or ±∞) is the result itself. Finite rows compute as before.
  lse: [
    'let mx = x0[b];',
    LOOP(1, extremeFoldCode('mx', 'xv', '>')),
    'let se = 0.0;',
    LOOP(2, `let sd = xv - mx;\n${expCode('sd', 'se1')}\nse = se + se1;`),
    'let lse = mx + Math.log(se);',
    `if (${isNanCode('se')}) { lse = se; }`,
    'return lse;',
  ].join('\n'),
  mean: ['let sm = 0.0;', LOOP(1, 'sm = sm + xv;'), `return sm / m[${lenAt}];`].join('\n'),
  rstd: [
    'let sm = 0.0;',
    LOOP(1, 'sm = sm + xv;'),
    `let mu = sm / m[${lenAt}];`,
    'let sq = 0.0;',
    LOOP(2, 'sq = sq + (xv - mu) * (xv - mu);'),
    `return 1.0 / Math.sqrt(sq / m[${lenAt}] + m[${lenAt + 2}]);`,
  ].join('\n'),
  rrms: ['let sq = 0.0;', LOOP(1, 'sq = sq + xv * xv;'), `return 1.0 / Math.sqrt(sq / m[${lenAt}] + m[${lenAt + 2}]);`].join('\n'),
};
const SOURCES = new Map(Object.entries(BODIES).map(([k, body]) => [k, kernelSource(1, `${OUTPUT_COORDS}\n${indexCode('b', MAX_RANK, 'c')}\n${body}`)]));

/** The statistic of every row of x along `axis`, as a handle over x's shape with that axis set to 1. */
export function rowStat(ctx: GpuJsContext, what: string, x: TensorView, axis: number, stat: RowStat, eps = 0): Handle {
  const rows = x.shape.map((d, i) => (i === axis ? 1 : d));
  const m = new MetaTable();
  m.dims(rows, what);
  m.layout({ shape: rows, strides: x.strides.map((s, i) => (i === axis ? 0 : s)), offset: x.offset }, rows, what);
  m.push(x.shape[axis]!, x.strides[axis]!, eps);
  return ctx.run({ source: SOURCES.get(stat)!, size: numel(rows), args: [handleOf(x), m.toArray()] });
}
