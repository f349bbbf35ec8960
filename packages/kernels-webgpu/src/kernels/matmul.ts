// Batched matmul of strided operands: a 64x64 output tile per 16x16-invocation workgroup, each
// invocation accumulating a 4x4 register block from 16-deep shared-memory tiles of A and B.
// Operands are read through their strides, so transposed views (b.T) and broadcast batch dims
// (stride 0) multiply without a copy; one pipeline per dtype serves every shape. Float products whose
// matrices have a unit-stride axis take the vectorised fast path of matmul-tiled.ts; this kernel is
// the fallback for everything else (integers, doubly strided views).
import type { TensorView } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { bufferOf } from '../map-dispatch.js';
import { CONVERSIONS, computeType, encodeExpr, loadFunction, storageBytes } from '../wgsl/dtype-io.js';
import { INDEXING } from '../wgsl/indexing.js';
import type { DType } from '@tessera/tensor';
import { BATCH_OFFSETS, matmulParams } from './matmul-params.js';
import { operandRead, TILE_128, TILE_64, tiledKey, tiledSource, type MatmulTile, type TiledSpec } from './matmul-tiled.js';

const TILE = 64;

function source(aDtype: DType, bDtype: DType, outDtype: DType): string {
  const ct = computeType(outDtype);
  return `${INDEXING}
${CONVERSIONS}
@group(0) @binding(1) var<storage, read> ba: array<u32>;
@group(0) @binding(2) var<storage, read> bb: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
${loadFunction('inA', 'ba', aDtype)}
${loadFunction('inB', 'bb', bDtype)}
${BATCH_OFFSETS}
var<workgroup> As: array<${ct}, 1024>;
var<workgroup> Bs: array<${ct}, 1024>;
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p(0u); let N = p(1u); let K = p(2u);
  let offs = batch_offsets(wid.z);
  let aOff = offs.x;
  let bOff = offs.y;
  let aSM = p(17u); let aSK = p(18u); let bSK = p(26u); let bSN = p(27u);
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<vec4<${ct}>, 4>;
  for (var k0 = 0u; k0 < K; k0 = k0 + 16u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      let e = tid + j * 256u;
      let m = e / 16u; let ka = e % 16u;
      // Explicitly zeroed: a declaration alone kept the previous iteration's value on lavapipe.
      var v = ${ct}(0);
      if (row0 + m < M && k0 + ka < K) { v = inA(aOff + (row0 + m) * aSM + (k0 + ka) * aSK); }
      As[ka * 64u + m] = v;
      let kb = e / 64u; let n = e % 64u;
      var w = ${ct}(0);
      if (k0 + kb < K && col0 + n < N) { w = inB(bOff + (k0 + kb) * bSK + (col0 + n) * bSN); }
      Bs[kb * 64u + n] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      let ar = kk * 64u + lid.y * 4u;
      let bc = kk * 64u + lid.x * 4u;
      let a = vec4<${ct}>(As[ar], As[ar + 1u], As[ar + 2u], As[ar + 3u]);
      let b = vec4<${ct}>(Bs[bc], Bs[bc + 1u], Bs[bc + 2u], Bs[bc + 3u]);
      acc[0] = acc[0] + a.x * b;
      acc[1] = acc[1] + a.y * b;
      acc[2] = acc[2] + a.z * b;
      acc[3] = acc[3] + a.w * b;
    }
    workgroupBarrier();
  }
  let outBase = wid.z * M * N;
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = row0 + lid.y * 4u + i;
    if (r >= M) { break; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let c = col0 + lid.x * 4u + j;
      if (c < N) { out[outBase + r * N + c] = ${encodeExpr(outDtype, 'acc[i][j]')}; }
    }
  }
}
`;
}


const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader/i;
const FLOATS: ReadonlySet<DType> = new Set<DType>(['f32', 'f16', 'bf16']);

/**
 * The tile for an (m x n) output: 128x128 (twice the work per workgroup-memory read) once there are
 * enough such tiles to occupy a GPU's compute units; a CPU adapter (lavapipe, SwiftShader) runs a
 * workgroup per core, so it takes 128x128 always (on lavapipe it does 1.8x the work per CPU-second).
 */
function chooseTile(m: number, n: number, batches: number, software: boolean): MatmulTile {
  return software || Math.ceil(m / 128) * Math.ceil(n / 128) * batches >= 96 ? TILE_128 : TILE_64;
}

/** The fast path's specialisation for a product on a device, or null when the strided kernel must serve it. */
export function matmulRoute(
  a: TensorView,
  b: TensorView,
  outDtype: DType,
  device: { f16Native: boolean; software: boolean },
  tile?: MatmulTile,
  vectorBindable: readonly [boolean, boolean] = [true, true],
): TiledSpec | null {
  if (!FLOATS.has(a.dtype) || b.dtype !== a.dtype) return null;
  const { aBatch, bBatch, batch, m, n } = matmulParams(a, b);
  const ra = operandRead(a, aBatch, vectorBindable[0]);
  const rb = operandRead(b, bBatch, vectorBindable[1]);
  if (!ra || !rb) return null;
  const batches = batch.reduce((x, y) => x * y, 1);
  return {
    dtype: a.dtype as TiledSpec['dtype'],
    outDtype,
    f16Native: device.f16Native && a.dtype === 'f16',
    a: ra,
    b: rb,
    tile: tile ?? chooseTile(m, n, batches, device.software),
  };
}

/** The matmul kernel; `tile` forces the fast path's tile (tests of the tile a device would not pick). */
export function matmulKernelWith(tile?: MatmulTile): GpuKernel {
  return (ctx, [a, b], _attrs, out) => {
    const { params, batch, m, n } = matmulParams(a!, b!);
    const batches = batch.reduce((x, y) => x * y, 1);
    const buffer = ctx.acquire(storageBytes(out.dtype, batches * m * n));
    if (batches * m * n === 0) return buffer;
    if (batches > 65535) throw new RangeError(`matmul: ${batches} batches exceed 65535 on webgpu (a: [${a!.shape.join(',')}], b: [${b!.shape.join(',')}]); reshape into fewer`);
    // A binding window (matmul-windowed.ts) may end mid-vector; its operand is then read by scalars.
    const bindable = [a!, b!].map((v) => (bufferOf(v) as { size: number }).size % 16 === 0) as [boolean, boolean];
    const spec = matmulRoute(a!, b!, out.dtype, { f16Native: ctx.features.has('shader-f16'), software: SOFTWARE_ADAPTER.test(ctx.adapterName) }, tile, bindable);
    if (spec) {
      const pipeline = ctx.pipelines.get(tiledKey(spec), 2, () => tiledSource(spec));
      ctx.dispatch(pipeline, [bufferOf(a!), bufferOf(b!)], buffer, params, [Math.ceil(n / spec.tile.bn), Math.ceil(m / spec.tile.bm), batches]);
      return buffer;
    }
    const pipeline = ctx.pipelines.get(`matmul:${a!.dtype}:${b!.dtype}:${out.dtype}`, 2, () => source(a!.dtype, b!.dtype, out.dtype));
    ctx.dispatch(pipeline, [bufferOf(a!), bufferOf(b!)], buffer, params, [Math.ceil(n / TILE), Math.ceil(m / TILE), batches]);
    return buffer;
  };
}

/** (..., M, K) x (..., K, N) with broadcast batch dims. */
export const matmulKernel: GpuKernel = matmulKernelWith();
