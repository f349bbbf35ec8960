// argmax / argmin along one axis: each thread scans its line and keeps the first index of the extreme
// value or of the first NaN (ties keep the first; NaN counts as the largest and the smallest value), as
// on the CPU.
import { numel, type ReduceAttrs } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, indexCode, kernelSource } from '../kernel-source.js';
import { argBetterCode } from './scalar-functions.js';

function argReduceKernel(name: string, better: '>' | '<'): GpuJsKernel<ReduceAttrs> {
  // Table: kept dims at 0, x's layout over them at R, then line length and step.
  const lenAt = 2 * MAX_RANK + 1;
  const body = [
    OUTPUT_COORDS,
    indexCode('b', MAX_RANK, 'c'),
    'let best = x0[b];',
    'let at = 0.0;',
    `for (let k = 1; k < m[${lenAt}]; k++) {`,
    `let vi = b + (k * 1.0) * m[${lenAt + 1}];`,
    'let v = x0[vi];',
    `if (${argBetterCode('v', 'best', better)}) { best = v; at = k * 1.0; }`,
    '}',
    'return at;',
  ].join('\n');
  const source = kernelSource(1, body);
  return (ctx, [x], { axes }, out) => {
    if (axes.length !== 1) throw new RangeError(`${name}: reduces exactly one axis (got axes [${axes.join(',')}])`);
    const axis = axes[0]!;
    const keptDims = x!.shape.map((d, i) => (i === axis ? 1 : d));
    const keptStrides = x!.strides.map((s, i) => (i === axis ? 0 : s));
    const m = new MetaTable();
    m.dims(keptDims, name);
    m.layout({ shape: keptDims, strides: keptStrides, offset: x!.offset }, keptDims, name);
    m.push(x!.shape[axis]!, x!.strides[axis]!);
    return ctx.run({ source, size: numel(out.shape), args: [handleOf(x!), m.toArray()] });
  };
}

/** Index of the largest value along the axis (first on ties; first NaN wins). */
export const argmaxKernel = argReduceKernel('argmax', '>');
/** Index of the smallest value along the axis (first on ties; first NaN wins). */
export const argminKernel = argReduceKernel('argmin', '<');
