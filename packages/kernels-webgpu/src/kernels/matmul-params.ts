// The uniform words of a batched matmul, written here on the host and read by every matmul shader
// (the strided kernel and the fast path): M, N, K, the broadcast batch shape, and per operand its
// offset, batch strides and matrix strides (wrapping u32: negative strides work).
//   [0] M  [1] N  [2] K  [3] batch rank  [4..10) batch dims
//   [10] a offset  [11..17) a batch strides  [17] a row stride  [18] a column stride
//   [19] b offset  [20..26) b batch strides  [26] b row stride  [27] b column stride
import { broadcastShapes, type TensorView } from '@tessera/tensor';
import { PARAM_WORDS } from '../gpu-context.js';

const MAX_BATCH_RANK = 6;

/** Parameter words of a batched product (batch dims broadcast, each operand strided). */
export function matmulParams(a: TensorView, b: TensorView): { params: Uint32Array; batch: number[]; aBatch: number[]; bBatch: number[]; m: number; n: number; k: number } {
  const m = a.shape[a.shape.length - 2]!;
  const k = a.shape[a.shape.length - 1]!;
  const n = b.shape[b.shape.length - 1]!;
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  if (batch.length > MAX_BATCH_RANK) throw new RangeError(`matmul: ${batch.length} batch dims exceed the webgpu backend's ${MAX_BATCH_RANK} (a: [${a.shape.join(',')}], b: [${b.shape.join(',')}])`);
  const params = new Uint32Array(PARAM_WORDS);
  params[0] = m;
  params[1] = n;
  params[2] = k;
  params[3] = batch.length;
  batch.forEach((d, i) => (params[4 + i] = d));
  const batchStrides = (v: TensorView): number[] => {
    const lead = batch.length - (v.shape.length - 2);
    return batch.map((_, i) => (i < lead || v.shape[i - lead] === 1 ? 0 : v.strides[i - lead]!));
  };
  const aBatch = batchStrides(a);
  const bBatch = batchStrides(b);
  params[10] = a.offset;
  aBatch.forEach((s, i) => (params[11 + i] = s >>> 0));
  params[17] = a.strides[a.shape.length - 2]! >>> 0;
  params[18] = a.strides[a.shape.length - 1]! >>> 0;
  params[19] = b.offset;
  bBatch.forEach((s, i) => (params[20 + i] = s >>> 0));
  params[26] = b.strides[b.shape.length - 2]! >>> 0;
  params[27] = b.strides[b.shape.length - 1]! >>> 0;
  return { params, batch, aBatch, bBatch, m, n, k };
}

/** WGSL: `batch_offsets(z)`, the element offsets of a and b for output matrix z of the batch. */
export const BATCH_OFFSETS = /* wgsl */ `
fn batch_offsets(z: u32) -> vec2<u32> {
  var rem = z;
  var aOff = p(10u);
  var bOff = p(19u);
  for (var d = i32(p(3u)) - 1; d >= 0; d--) {
    let s = p(4u + u32(d));
    let c = rem % s;
    rem = rem / s;
    aOff = aOff + c * p(11u + u32(d));
    bOff = bOff + c * p(20u + u32(d));
  }
  return vec2<u32>(aOff, bOff);
}`;
