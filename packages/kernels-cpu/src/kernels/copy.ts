import { numel, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { collapseDims, denseStrides, forEachRow } from '../strided.js';

/**
 * Contiguous runs at least this long go through `set(subarray)` (a memcpy), shorter ones through a
 * plain loop. The subarray object costs ~50 ns, but V8's f32 copy loop runs at ~1 ns an element, so
 * set() already wins at 64 elements (a 262K-element head transpose in 64-element rows: 0.25 ms by
 * set(), 0.42 ms by the loop); runs of 16 to 63 were not measured apart and go to set() too.
 */
const SET_MIN_RUN = 16;

/** The f32 run copy with both arrays typed, so V8 keeps the loop monomorphic (no per-element type dispatch). */
function copyRunF32(dst: Float32Array, o: number, so: number, src: Float32Array, i: number, si: number, n: number): void {
  if (so === 1 && si === 1) for (const end = o + n; o < end; o++, i++) dst[o] = src[i]!;
  else for (let t = 0; t < n; t++, o += so, i += si) dst[o] = src[i]!;
}

/** Copies `n` elements (raw, same dtype) from `src[i]` stepping `si` to `dst[o]` stepping `so`. */
export function copyRun(dst: TypedArray, o: number, so: number, src: TypedArray, i: number, si: number, n: number): void {
  if (so === 1 && si === 1 && n >= SET_MIN_RUN) dst.set(src.subarray(i, i + n), o);
  else if (dst instanceof Float32Array && src instanceof Float32Array) copyRunF32(dst, o, so, src, i, si, n);
  else for (let t = 0; t < n; t++, o += so, i += si) dst[o] = src[i]!;
}

/** Copies a strided view's elements (raw, no conversion) into `dst` laid out with `dstStrides` from `dstOffset`. */
export function copyStrided(src: TensorView, dst: TypedArray, dstStrides: readonly number[], dstOffset: number): void {
  const data = dataOf(src);
  const { shape, strides } = collapseDims(src.shape, [dstStrides, src.strides]);
  const [ds, ss] = strides as [number[], number[]];
  const rank = shape.length;
  const n = shape[rank - 1]!;
  if (rank >= 2 && ds[rank - 1] === 1 && ss[rank - 1] === 1 && n >= SET_MIN_RUN) {
    // Contiguous runs (a concat's slabs, a head transpose's rows): walk the runs of the next dim in
    // this loop, one set() each, instead of one walker callback per run.
    forEachRow(shape.slice(0, -1), [ds.slice(0, -1), ss.slice(0, -1)], [dstOffset, src.offset], (offs, m, inner) => {
      const so = inner[0]!;
      const si = inner[1]!;
      for (let r = 0, o = offs[0]!, i = offs[1]!; r < m; r++, o += so, i += si) dst.set(data.subarray(i, i + n), o);
    });
  } else forEachRow(shape, [ds, ss], [dstOffset, src.offset], (offs, len, inner) => copyRun(dst, offs[0]!, inner[0]!, data, offs[1]!, inner[1]!, len));
}

/** A dense row-major copy of any strided view. */
export const copyKernel: CpuKernel = ([x], _attrs, out) => {
  const dst = resultArray(out.dtype, numel(out.shape));
  copyStrided(x!, dst, denseStrides(out.shape), 0);
  return dst;
};
