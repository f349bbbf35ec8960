// argmax / argmin along one axis: the first index of the extreme value, or of the first NaN (NaN
// counts as both the largest and the smallest value, as in PyTorch). One workgroup per output.
import type { DType, ReduceAttrs } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { bufferOf } from '../map-dispatch.js';
import { CONVERSIONS, computeType, loadFunction, storageBytes } from '../wgsl/dtype-io.js';
import { INDEXING, MAX_RANK } from '../wgsl/indexing.js';
import { SCALAR_FUNCTIONS } from '../wgsl/scalar-functions.js';
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
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p(0u);
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
  if (lidx == 0u && valid) { out[o] = at[0]; }
}
`;
}

function argKernel(name: string, larger: boolean): GpuKernel<ReduceAttrs> {
  return (ctx, [x], { axes }, out) => {
    if (axes.length !== 1) throw new RangeError(`${name}: reduces exactly one axis on webgpu (got axes [${axes.join(',')}], shape [${x!.shape.join(',')}])`);
    const { params, outCount } = reduceParams(x!, axes, name);
    const buffer = ctx.acquire(storageBytes(out.dtype, outCount));
    if (outCount === 0) return buffer;
    const pipeline = ctx.pipelines.get(`${name}:${x!.dtype}`, 1, () => source(x!.dtype, larger));
    ctx.dispatch(pipeline, [bufferOf(x!)], buffer, params, outCount);
    return buffer;
  };
}

/** Index of the largest value along the axis (first on ties; first NaN wins). */
export const argmaxKernel = argKernel('argmax', true);
/** Index of the smallest value along the axis (first on ties; first NaN wins). */
export const argminKernel = argKernel('argmin', false);
