// sum, max and min over any set of axes: one 64-invocation workgroup per output element, each
// invocation folding a strided share of the reduced elements, then a tree in workgroup memory.
// Outputs are 32-bit (packed output dtypes are widened by the backend and cast afterwards).
import { OPS, type DType, type OpDef, type ReduceAttrs } from '@tessera/tensor';
import { PARAM_WORDS } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { bufferOf } from '../map-dispatch.js';
import { CONVERSIONS, computeType, convertExpr, encodeExpr, loadFunction, storageBytes, type ComputeType } from '../wgsl/dtype-io.js';
import { extraBase, INDEXING, MAX_RANK, writeLayout } from '../wgsl/indexing.js';
import { SCALAR_FUNCTIONS } from '../wgsl/scalar-functions.js';

interface Fold {
  init: Record<ComputeType, string>;
  /** WGSL combining accumulator `a` with value `x`. */
  step: Record<ComputeType, string>;
}

const NEG_INF = '-inf_f32()';
const POS_INF = 'inf_f32()';

// A NaN wins and then stays, as in PyTorch.
const FOLDS = new Map<OpDef, Fold>([
  [OPS.sum, { init: { f32: '0.0', i32: '0', u32: '0u' }, step: { f32: 'a + x', i32: 'a + x', u32: 'a + x' } }],
  [
    OPS.max,
    {
      init: { f32: NEG_INF, i32: 'i32(-2147483648)', u32: '0u' },
      step: { f32: 'select(select(a, x, x > a), x, is_nan(x))', i32: 'max(a, x)', u32: 'max(a, x)' },
    },
  ],
  [
    OPS.min,
    {
      init: { f32: POS_INF, i32: '2147483647', u32: '0xffffffffu' },
      step: { f32: 'select(select(a, x, x < a), x, is_nan(x))', i32: 'min(a, x)', u32: 'min(a, x)' },
    },
  ],
]);

const E = extraBase(1);

/** WGSL: the storage offset of reduced element r (its strides start at E + MAX_RANK). */
export const REDUCED_OFFSET = /* wgsl */ `
fn reduced_offset(r: u32) -> u32 {
  var rem = r;
  var off = 0u;
  for (var d = i32(p(3u)) - 1; d >= 0; d--) {
    let s = p(${E}u + u32(d));
    off = off + (rem % s) * p(${E + MAX_RANK}u + u32(d));
    rem = rem / s;
  }
  return off;
}`;

/** Parameter words of a reduction: kept dims as the iteration shape, reduced dims after. */
export function reduceParams(x: { shape: readonly number[]; strides: readonly number[]; offset: number }, axes: readonly number[], where: string): { params: Uint32Array; outCount: number; count: number } {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(params, kept.map((i) => x.shape[i]!), [{ offset: x.offset, strides: kept.map((i) => x.strides[i]!) }], where);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  params[2] = count;
  params[3] = axes.length;
  axes.forEach((a, j) => {
    params[E + j] = x.shape[a]!;
    params[E + MAX_RANK + j] = x.strides[a]! >>> 0;
  });
  return { params, outCount: params[0]!, count };
}

function source(fold: Fold, inDtype: DType, outDtype: DType): string {
  const ct = computeType(outDtype);
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${REDUCED_OFFSET}
@group(0) @binding(1) var<storage, read> b0: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${loadFunction('in0', 'b0', inDtype)}
var<workgroup> partial: array<${ct}, 64>;
fn fold(a: ${ct}, x: ${ct}) -> ${ct} { return ${fold.step[ct]}; }
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
  let o = wid.x + wid.y * nwg.x;
  let valid = o < p(0u);
  let base = offset_of(${4 + MAX_RANK}u, min(o, p(0u) - 1u));
  var a: ${ct} = ${fold.init[ct]};
  if (valid) {
    for (var r = lidx; r < p(2u); r = r + 64u) { a = fold(a, ${convertExpr('in0(base + reduced_offset(r))', inDtype, outDtype)}); }
  }
  partial[lidx] = a;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lidx < s) { partial[lidx] = fold(partial[lidx], partial[lidx + s]); }
    workgroupBarrier();
  }
  if (lidx == 0u && valid) { out[o] = ${encodeExpr(outDtype, 'partial[0]')}; }
}
`;
}

/** The kernel of one reduction (sum, max or min). */
export function reduceKernel(op: OpDef): GpuKernel<ReduceAttrs> {
  const fold = FOLDS.get(op)!;
  return (ctx, [x], { axes }, out) => {
    const { params, outCount } = reduceParams(x!, axes, op.name);
    const buffer = ctx.acquire(storageBytes(out.dtype, outCount));
    if (outCount === 0) return buffer;
    const pipeline = ctx.pipelines.get(`reduce:${op.name}:${x!.dtype}:${out.dtype}`, 1, () => source(fold, x!.dtype, out.dtype));
    ctx.dispatch(pipeline, [bufferOf(x!)], buffer, params, outCount);
    return buffer;
  };
}
