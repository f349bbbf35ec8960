// sum, max and min over any set of axes. The walk follows the input's own layout (cache friendly),
// with the output described by strides that are 0 along reduced axes, so each input element lands
// on its output slot. Accumulators are doubles: f32 sums gain precision, integers stay exact.
import { OPS, allocTyped, numel, type OpDef, type ReduceAttrs, type TensorView } from '@tessera/tensor';
import { dataOf, storeFor, type CpuKernel } from '../cpu-kernel.js';
import { denseStrides, forEachRow } from '../strided.js';

/** How a reduction folds: its starting value and its step. */
interface Fold {
  readonly init: number;
  readonly step: (acc: number, x: number) => number;
}

// A NaN wins and then stays (NaN compares false both ways), as in PyTorch.
const FOLDS = new Map<OpDef, Fold>([
  [OPS.sum, { init: 0, step: (acc, x) => acc + x }],
  [OPS.max, { init: -Infinity, step: (acc, x) => (x > acc || x !== x ? x : acc) }],
  [OPS.min, { init: Infinity, step: (acc, x) => (x < acc || x !== x ? x : acc) }],
]);

/** Strides over `x`'s shape that address the reduced output: 0 on reduced axes, dense elsewhere. */
export function reducedOutputStrides(x: TensorView, axes: readonly number[]): number[] {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return denseStrides(kept).map((s, i) => (axes.includes(i) ? 0 : s));
}

/** The strided kernel for one reduction fold. */
function reduceKernel({ init, step }: Fold): CpuKernel<ReduceAttrs> {
  return ([x], { axes }, out) => {
    const src = dataOf(x!);
    const acc = new Float64Array(numel(out.shape)).fill(init);
    const outStrides = reducedOutputStrides(x!, axes);
    forEachRow(x!.shape, [outStrides, x!.strides], [0, x!.offset], (offs, n, inner) => {
      const so = inner[0]!;
      const si = inner[1]!;
      let o = offs[0]!;
      let i = offs[1]!;
      if (so === 0) {
        // The row runs along a reduced axis: fold it into one accumulator held in a local.
        let a = acc[o]!;
        for (let t = 0; t < n; t++, i += si) a = step(a, src[i]!);
        acc[o] = a;
      } else {
        for (let t = 0; t < n; t++, o += so, i += si) acc[o] = step(acc[o]!, src[i]!);
      }
    });
    const dst = allocTyped(out.dtype, acc.length);
    const store = storeFor(out.dtype);
    for (let i = 0; i < acc.length; i++) dst[i] = store(acc[i]!);
    return dst;
  };
}

/** Sums over `axes` (an empty reduction gives 0). */
export const sumKernel = reduceKernel(FOLDS.get(OPS.sum)!);
/** Largest value over `axes`; NaN propagates. */
export const maxKernel = reduceKernel(FOLDS.get(OPS.max)!);
/** Smallest value over `axes`; NaN propagates. */
export const minKernel = reduceKernel(FOLDS.get(OPS.min)!);
