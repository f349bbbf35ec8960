// argmax / argmin along one axis: the first index of the extreme value, or of the first NaN (NaN
// counts as both the largest and the smallest value, as in PyTorch). One workgroup per output;
// outputs are cut into pieces whose rows fit a binding window when the input exceeds one.
import type { DType, ReduceAttrs } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { BindingLimitError, bindingLimitMessage, elementShift, PIECE, planRanges, rangeSpan, windowOf, windowWord } from '../binding-window.js';
import { bufferOf, bufferView, viewWith } from '../map-dispatch.js';
import { rowSpan } from '../row-pieces.js';
import { CONVERSIONS, computeType, loadFunction, storageBytes } from '../wgsl/dtype-io.js';
import { INDEXING, MAX_RANK } from '../wgsl/indexing.js';
import { SCALAR_FUNCTIONS } from '../wgsl/scalar-functions.js';
import { copyKernel } from './cast.js';
import { REDUCED_OFFSET, reduceParams } from './reduce.js';

function source(dtype: DType, larger: boolean): string {
  const ct = computeType(dtype);
  const cmp = larger ? '>' : '<';
  const nan = ct === 'f32' ? 'is_nan' : 'no_nan';
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${REDUCED_OFFSET}
@group(0) @binding(1) var<storage, read> b0: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${loadFunction('in0', 'b0', dtype)}
fn no_nan(x: ${ct}) -> bool { return false; }
const EMPTY = 0xffffffffu;
var<workgroup> best: array<${ct}, 64>;
var<workgroup> at: array<u32, 64>;
// True when (v2, i2) should replace (v1, i1): NaN first, then the extreme, then the lower index.
fn takes(v1: ${ct}, i1: u32, v2: ${ct}, i2: u32) -> bool {
  if (i2 == EMPTY) { return false; }
  if (i1 == EMPTY) { return true; }
  if (${nan}(v1)) { return ${nan}(v2) && i2 < i1; }
  if (${nan}(v2)) { return true; }
  if (v2 ${cmp} v1) { return true; }
  return v2 == v1 && i2 < i1;
}
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  // One piece (binding-window.ts): outputs start .. start + count, written through a window.
  let local = wid.x + wid.y * nwg.x;
  let o = p(${PIECE.start}u) + local;
  let valid = local < p(${PIECE.count}u) && o < p(0u);
  let base = offset_of(${4 + MAX_RANK}u, min(o, p(0u) - 1u));
  var v = ${ct}(0);
  var k = EMPTY;
  if (valid) {
    for (var r = lidx; r < p(2u); r = r + 64u) {
      let x = in0(base + reduced_offset(r));
      if (takes(v, k, x, r)) { v = x; k = r; }
    }
  }
  best[lidx] = v;
  at[lidx] = k;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lidx < s && takes(best[lidx], at[lidx], best[lidx + s], at[lidx + s])) {
      best[lidx] = best[lidx + s];
      at[lidx] = at[lidx + s];
    }
    workgroupBarrier();
  }
  if (lidx == 0u && valid) { out[o - p(${PIECE.outShift}u)] = at[0]; }
}
`;
}

function argKernel(name: string, larger: boolean): GpuKernel<ReduceAttrs> {
  const kernel: GpuKernel<ReduceAttrs> = (ctx, [x], { axes }, out) => {
    if (axes.length !== 1) throw new RangeError(`${name}: reduces exactly one axis on webgpu (got axes [${axes.join(',')}], shape [${x!.shape.join(',')}])`);
    const { params, outCount } = reduceParams(x!, axes, name);
    const buffer = ctx.acquire(storageBytes(out.dtype, outCount));
    if (outCount === 0) return buffer;
    const pipeline = ctx.pipelines.get(`${name}:${x!.dtype}`, 1, () => source(x!.dtype, larger));
    const xb = bufferOf(x!);
    const axis = axes[0]!;
    const kept = x!.shape.map((_, i) => i).filter((i) => i !== axis);
    // Pieces of outputs whose rows (whole, along the axis) and results fit a window.
    const inputSpan = (o0: number, o1: number): [number, number] => {
      const [k0, k1] = rangeSpan(kept.map((i) => x!.shape[i]!), kept.map((i) => x!.strides[i]!), x!.offset, o0, o1);
      const [r0, r1] = rowSpan(x!.shape[axis]!, x!.strides[axis]!);
      return [k0 + r0, k1 + r1];
    };
    const pieces = planRanges(outCount, 1, outCount, (o0, o1) => windowOf(ctx, xb, x!.dtype, ...inputSpan(o0, o1)) !== null && windowOf(ctx, buffer, out.dtype, o0, o1 - 1) !== null);
    if (!pieces) {
      // A row strided wider than a window (along the first dim, or a transposed view): take it from a
      // contiguous copy with the axis last; the outputs keep the other dims' order, so nothing moves back.
      const last = x!.shape.length - 1;
      const rowStride = Math.abs(x!.strides[axis]!);
      if (rowStride === 1) throw new BindingLimitError(bindingLimitMessage(name, `one row of [${x!.shape.join(',')}] ${x!.dtype} along axis ${axis}`, xb.size, ctx));
      const perm = [...kept, axis];
      const movedShape = perm.map((d) => x!.shape[d]!);
      const moved = copyKernel(ctx, [viewWith(x!, { shape: movedShape, strides: perm.map((d) => x!.strides[d]!) })], undefined, { shape: movedShape, dtype: x!.dtype });
      ctx.release(buffer);
      const result = kernel(ctx, [bufferView(moved, x!.dtype, movedShape)], { axes: [last], keepDims: false }, out);
      ctx.release(moved);
      return result;
    }
    for (const [o0, o1] of pieces) {
      const input = windowOf(ctx, xb, x!.dtype, ...inputSpan(o0, o1))!;
      const output = windowOf(ctx, buffer, out.dtype, o0, o1 - 1)!;
      const p = params.slice();
      p[4 + MAX_RANK] = (x!.offset - elementShift(input, x!.dtype)) >>> 0;
      p[PIECE.start] = o0;
      p[PIECE.count] = o1 - o0;
      p[PIECE.outShift] = windowWord(output);
      ctx.dispatch(pipeline, [input], output, p, o1 - o0);
    }
    return buffer;
  };
  return kernel;
}

/** Index of the largest value along the axis (first on ties; first NaN wins). */
export const argmaxKernel = argKernel('argmax', true);
/** Index of the smallest value along the axis (first on ties; first NaN wins). */
export const argminKernel = argKernel('argmin', false);
