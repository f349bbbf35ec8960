// sum, max and min over any set of axes: one thread per output element walks the reduced
// sub-block (its coordinates split from a flat loop counter), accumulating in f32.
import { numel, type ReduceAttrs } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, coordsCode, indexCode, kernelSource } from '../kernel-source.js';
import { extremeFoldCode } from './scalar-functions.js';

/**
 * How each reduction folds one more value `xv` into `acc` (max/min start from the first element; a
 * NaN wins and stays, as on the CPU, where GPU max/min would skip it).
 */
const FOLDS = {
  sum: { init: '0.0', first: 0, fold: 'acc = acc + xv;' },
  max: { init: 'x0[b]', first: 1, fold: extremeFoldCode('acc', 'xv', '>') },
  min: { init: 'x0[b]', first: 1, fold: extremeFoldCode('acc', 'xv', '<') },
} as const;

/** The reduction kernel of `sum`, `max` or `min`. */
export function reduceKernel(name: keyof typeof FOLDS): GpuJsKernel<ReduceAttrs> {
  const { init, first, fold } = FOLDS[name];
  // Table: output dims (kept axes) at 0, x's layout over them at R, reduced dims at 2R+1, reduced
  // strides at 3R+1, element count at 4R+1 (R = MAX_RANK).
  const dimsAt = 2 * MAX_RANK + 1;
  const stridesAt = 3 * MAX_RANK + 1;
  const body = [
    OUTPUT_COORDS,
    indexCode('b', MAX_RANK, 'c'),
    `let acc = ${init};`,
    `for (let j = ${first}; j < m[${4 * MAX_RANK + 1}]; j++) {`,
    coordsCode(dimsAt, 'd', 'j * 1.0'),
    `let xi = b + ${Array.from({ length: MAX_RANK }, (_, d) => `d${d} * m[${stridesAt + d}]`).join(' + ')};`,
    'let xv = x0[xi];',
    fold,
    '}',
    'return acc;',
  ].join('\n');
  const source = kernelSource(1, body);
  return (ctx, [x], { axes }, out) => {
    const reduced = new Set(axes);
    const keptDims = x!.shape.filter((_, i) => !reduced.has(i));
    const keptStrides = x!.strides.filter((_, i) => !reduced.has(i));
    const innerDims = axes.map((a) => x!.shape[a]!);
    const innerStrides = axes.map((a) => x!.strides[a]!);
    const m = new MetaTable();
    m.dims(keptDims, name);
    m.layout({ shape: keptDims, strides: keptStrides, offset: x!.offset }, keptDims, name);
    m.dims(innerDims, name);
    m.strides(innerStrides, name);
    m.push(numel(innerDims));
    return ctx.run({ source, size: numel(out.shape), args: [handleOf(x!), m.toArray()] });
  };
}
