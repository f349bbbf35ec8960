// torch.scatter_add: a copy of x, then out[p with p[axis] replaced by index[p]] += src[p] over the
// index's shape. The output is dense, so it is addressed with stride 0 on `axis` plus index * stride.
import { numel, type TypedArray } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { indexOutOfRange } from '../index-check.js';
import { denseStrides, forEachRow } from '../strided.js';
import { copyStrided } from './copy.js';

/** Adds src into a copy of x at the positions `index` gives along `axis`. */
export const scatterAddKernel: CpuKernel<{ axis: number }> = ([x, index, src], { axis }, out) => {
  // The copy of x writes every element, so an f32 result may be a recycled array.
  const dst = resultArray(out.dtype, numel(out.shape));
  const outStrides = denseStrides(out.shape);
  copyStrided(x!, dst, outStrides, 0);
  const idx = dataOf(index!);
  const values = dataOf(src!);
  const size = out.shape[axis]!;
  const axisStride = outStrides[axis]!;
  const isBool = out.dtype === 'bool';
  const dstStrides = outStrides.map((s, i) => (i === axis ? 0 : s));
  const indexStrides = denseStrides(index!.shape);
  forEachRow(
    index!.shape,
    [indexStrides, index!.strides, src!.strides, dstStrides],
    [0, index!.offset, src!.offset, 0],
    (offs, n, inner) => {
      const [sFlat, sIdx, sSrc, sDst] = inner as [number, number, number, number];
      let [f, p, s, d] = offs as [number, number, number, number];
      if (sIdx === 0 && !isBool) {
        // One index for the whole row (an embedding gradient: a token's row added into its table row).
        const k = idx[p]!;
        if (!(k >= 0 && k < size)) indexOutOfRange('scatterAdd', k, f, index!.shape, axis, size);
        addRun(dst, d + k * axisStride, sDst, values, s, sSrc, n);
        return;
      }
      for (let t = 0; t < n; t++, f += sFlat, p += sIdx, s += sSrc, d += sDst) {
        const k = idx[p]!;
        if (!(k >= 0 && k < size)) indexOutOfRange('scatterAdd', k, f, index!.shape, axis, size);
        const at = d + k * axisStride;
        dst[at] = isBool ? (dst[at]! !== 0 || values[s]! !== 0 ? 1 : 0) : dst[at]! + values[s]!;
      }
    },
  );
  return dst;
};

/** dst[o + t·so] += src[i + t·si] for t < n (typed f32 arrays keep V8's loop monomorphic). */
function addRun(dst: TypedArray, o: number, so: number, src: TypedArray, i: number, si: number, n: number): void {
  if (dst instanceof Float32Array && src instanceof Float32Array) addRunF32(dst, o, so, src, i, si, n);
  else for (let t = 0; t < n; t++, o += so, i += si) dst[o] = dst[o]! + src[i]!;
}

function addRunF32(dst: Float32Array, o: number, so: number, src: Float32Array, i: number, si: number, n: number): void {
  if (so === 1 && si === 1) for (const end = o + n; o < end; o++, i++) dst[o] = dst[o]! + src[i]!;
  else for (let t = 0; t < n; t++, o += so, i += si) dst[o] = dst[o]! + src[i]!;
}
