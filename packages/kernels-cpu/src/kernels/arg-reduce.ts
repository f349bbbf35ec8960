// argmax / argmin along one axis: the first index of the extreme value, or of the first NaN
// (NaN counts as the largest and the smallest value, as in PyTorch).
import { allocTyped, numel, type ReduceAttrs } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { denseStrides, forEachRow } from '../strided.js';

/** The kernel finding the first index where `better(x, best)` last held along the axis. */
function argReduceKernel(name: string, better: (x: number, best: number) => boolean): CpuKernel<ReduceAttrs> {
  return ([x], { axes }, out) => {
    if (axes.length !== 1) throw new RangeError(`${name}: reduces exactly one axis (got axes [${axes.join(',')}])`);
    const axis = axes[0]!;
    const src = dataOf(x!);
    const len = x!.shape[axis]!;
    const step = x!.strides[axis]!;
    // Walk every output position; each scans its line along `axis`.
    const kept = x!.shape.map((d, i) => (i === axis ? 1 : d));
    const dst = allocTyped('i32', numel(kept));
    forEachRow(kept, [denseStrides(kept), x!.strides], [0, x!.offset], (offs, n, inner) => {
      let o = offs[0]!;
      let i = offs[1]!;
      for (let t = 0; t < n; t++, o++, i += inner[1]!) {
        let best = src[i]!;
        let at = 0;
        for (let k = 1, p = i + step; k < len && best === best; k++, p += step) {
          const v = src[p]!;
          if (better(v, best) || v !== v) {
            best = v;
            at = k;
          }
        }
        dst[o] = at;
      }
    });
    return dst;
  };
}

/** Index of the largest value along the axis (first on ties; first NaN wins). */
export const argmaxKernel = argReduceKernel('argmax', (x, best) => x > best);
/** Index of the smallest value along the axis (first on ties; first NaN wins). */
export const argminKernel = argReduceKernel('argmin', (x, best) => x < best);
