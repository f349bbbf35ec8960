// The fused NF4 product y = x·Wᵀ (forward) or y = x·W (its gradient with respect to x, see the op's
// vjp in @tessera/tensor ops/nf4.ts) for a packed 4-bit weight W (out, in). Tiled like matmul.ts: a
// 64x64 output tile per 16x16-invocation workgroup, each invocation accumulating a 4x4 block in f32.
// The B operand is never read from an f32 weight: each 16x64 tile of W is dequantised from its
// nibbles and block scales straight into workgroup memory, so the full-precision weight exists
// nowhere, on the device or off it.
import { NF4_BLOCK, NF4_SCALE_BLOCK, isContiguous, type Nf4MatmulAttrs, type TensorView } from '@tessera/tensor';
import { PARAM_WORDS, type GpuContext } from '../gpu-context.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { f32Bits, bufferOf } from '../map-dispatch.js';
import { CONVERSIONS, loadFunction, storageBytes } from '../wgsl/dtype-io.js';
import { INDEXING } from '../wgsl/indexing.js';
import { castBuffer, copyKernel } from './cast.js';
import type { DType } from '@tessera/tensor';
import { NF4_LEVELS_WGSL, scaleCodeBuffer } from './nf4-scale-code.js';

const TILE = 64;
const NF4 = NF4_LEVELS_WGSL;


function source(xDtype: DType): string {
  return `${INDEXING}
${CONVERSIONS}
@group(0) @binding(1) var<storage, read> bx: array<u32>;
@group(0) @binding(2) var<storage, read> bp: array<u32>;
@group(0) @binding(3) var<storage, read> bq: array<u32>;
@group(0) @binding(4) var<storage, read> bs: array<u32>;
@group(0) @binding(5) var<storage, read> bcode: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<u32>;
${loadFunction('inX', 'bx', xDtype)}
${loadFunction('inP', 'bp', 'u8')}
${loadFunction('inQ', 'bq', 'u8')}
${loadFunction('inS', 'bs', 'f32')}
${loadFunction('inC', 'bcode', 'f32')}
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;
// Element e of the weight (row-major (out, in)): code[nibble] * (scaleCode[scalesQ[block]] * scales2[block / 256] + offset).
fn weight(e: u32) -> f32 {
  let block = e / ${NF4_BLOCK}u;
  let scale = inC(inQ(p(6u) + block)) * inS(p(7u) + block / ${NF4_SCALE_BLOCK}u) + bitcast<f32>(p(8u));
  let byte = inP(p(5u) + (e >> 1u));
  let idx = select(byte >> 4u, byte & 15u, (e & 1u) == 1u);
  var code = ${NF4};
  return code[idx] * scale;
}
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p(0u); let N = p(1u); let K = p(2u); let inF = p(3u); let xOff = p(4u);
  let transposeW = p(9u) == 1u;
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < K; k0 = k0 + 16u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      let e = tid + j * 256u;
      let m = e / 16u; let ka = e % 16u;
      var v = 0.0;
      if (row0 + m < M && k0 + ka < K) { v = f32(inX(xOff + (row0 + m) * K + k0 + ka)); }
      As[ka * 64u + m] = v;
      let kb = e / 64u; let n = e % 64u;
      var w = 0.0;
      if (k0 + kb < K && col0 + n < N) {
        // x·Wᵀ reads W[n, k]; x·W reads W[k, n].
        w = weight(select((k0 + kb) * inF + col0 + n, (col0 + n) * inF + k0 + kb, transposeW));
      }
      Bs[kb * 64u + n] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      let ar = kk * 64u + lid.y * 4u;
      let bc = kk * 64u + lid.x * 4u;
      let a = vec4<f32>(As[ar], As[ar + 1u], As[ar + 2u], As[ar + 3u]);
      let b = vec4<f32>(Bs[bc], Bs[bc + 1u], Bs[bc + 2u], Bs[bc + 3u]);
      acc[0] = acc[0] + a.x * b;
      acc[1] = acc[1] + a.y * b;
      acc[2] = acc[2] + a.z * b;
      acc[3] = acc[3] + a.w * b;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = row0 + lid.y * 4u + i;
    if (r >= M) { break; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let c = col0 + lid.x * 4u + j;
      if (c < N) { out[r * N + c] = bitcast<u32>(acc[i][j]); }
    }
  }
}
`;
}

/** The view's buffer and element offset, copying it dense first when it is strided (the copy is released after the dispatch). */
function denseOperand(ctx: GpuContext, v: TensorView, temps: GPUBuffer[]): { buffer: GPUBuffer; offset: number } {
  if (isContiguous(v.shape, v.strides)) return { buffer: bufferOf(v), offset: v.offset };
  const copy = copyKernel(ctx, [v], undefined, { shape: v.shape, dtype: v.dtype });
  temps.push(copy);
  return { buffer: copy, offset: 0 };
}

/** y = x·Wᵀ (transposeW) or x·W for a packed NF4 weight W, dequantised tile by tile in workgroup memory. */
export const nf4MatmulKernel: GpuKernel<Nf4MatmulAttrs> = (ctx, [x, packed, scalesQ, scales2], attrs, out) => {
  const [outF, inF] = attrs.shape as [number, number];
  const k = attrs.transposeW ? inF : outF;
  const n = attrs.transposeW ? outF : inF;
  const m = k === 0 ? 0 : x!.shape.reduce((a, b) => a * b, 1) / k;
  const size = m * n;
  // Accumulated and written in f32; a half-precision result is rounded once, by a cast afterwards.
  const result = ctx.acquire(storageBytes('f32', size));
  if (size > 0) {
    if (Math.ceil(m / TILE) > 65535) throw new RangeError(`nf4Matmul: ${m} rows of input exceed the webgpu backend's ${65535 * TILE} per dispatch (input [${x!.shape.join(',')}]); split the batch`);
    const temps: GPUBuffer[] = [];
    const xs = denseOperand(ctx, x!, temps);
    const ps = denseOperand(ctx, packed!, temps);
    const qs = denseOperand(ctx, scalesQ!, temps);
    const ss = denseOperand(ctx, scales2!, temps);
    const params = new Uint32Array(PARAM_WORDS);
    params.set([m, n, k, inF, xs.offset, ps.offset, qs.offset, ss.offset, f32Bits(attrs.offset), attrs.transposeW ? 1 : 0]);
    const pipeline = ctx.pipelines.get(`nf4Matmul:${x!.dtype}`, 5, () => source(x!.dtype));
    ctx.dispatch(pipeline, [xs.buffer, ps.buffer, qs.buffer, ss.buffer, scaleCodeBuffer(ctx, attrs.scaleCode)], result, params, [Math.ceil(n / TILE), Math.ceil(m / TILE), 1]);
    for (const t of temps) ctx.release(t);
  }
  if (out.dtype === 'f32') return result;
  const cast = castBuffer(ctx, result, 'f32', out.dtype, size);
  ctx.release(result);
  return cast;
};
