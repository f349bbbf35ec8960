// Batched matmul: (..., M, K) @ (..., K, N) with broadcast batch dims. Float products go through the
// blocked `gemm`; tiny products and integer dtypes use a direct strided loop. `matmulReference` is
// the plain triple loop the tests hold both to.
import { allocTyped, numel, type OutputSpec, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, storeFor, type CpuKernel } from '../cpu-kernel.js';
import { gemm, type MatrixOperand } from '../gemm.js';
import { broadcastStrides, forEachRow } from '../strided.js';

/** Below this many multiply-adds, packing costs more than it saves. */
const DIRECT_LIMIT = 32 * 32 * 32;

/** One matrix of the batch: the operand at a batch offset. */
export function operand(view: TensorView, offset: number): MatrixOperand {
  const r = view.shape.length;
  return { data: dataOf(view), offset, rowStride: view.strides[r - 2]!, colStride: view.strides[r - 1]! };
}

/** Calls `body` with a's and b's offsets and the output matrix index for every batch entry. */
export function forEachBatch(a: TensorView, b: TensorView, out: OutputSpec, body: (aOffset: number, bOffset: number, index: number) => void): void {
  const batch = out.shape.slice(0, -2);
  const aStrides = broadcastStrides({ shape: a.shape.slice(0, -2), strides: a.strides.slice(0, -2) }, batch);
  const bStrides = broadcastStrides({ shape: b.shape.slice(0, -2), strides: b.strides.slice(0, -2) }, batch);
  let index = 0;
  forEachRow(batch, [aStrides, bStrides], [a.offset, b.offset], (offs, n, inner) => {
    for (let t = 0; t < n; t++) body(offs[0]! + t * inner[0]!, offs[1]! + t * inner[1]!, index++);
  });
}

/**
 * c[i*n + j] = sum_p A[i,p] B[p,j] by a direct strided loop, in the order that streams B: i-p-j
 * when B's rows are contiguous, dot products (i-j-p) when its columns are (B = W.T, as in x @ W.T).
 */
function directProduct(m: number, n: number, k: number, a: MatrixOperand, b: MatrixOperand, c: Float64Array): void {
  c.fill(0, 0, m * n);
  const { data: x, offset: ao, rowStride: ar, colStride: ac } = a;
  const { data: y, offset: bo, rowStride: br, colStride: bc } = b;
  if (Math.abs(br) < Math.abs(bc)) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        // Four partial sums break the add-latency chain of a single accumulator.
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let ai = ao + i * ar;
        let bi = bo + j * bc;
        let p = 0;
        for (; p + 3 < k; p += 4, ai += 4 * ac, bi += 4 * br) {
          s0 += x[ai]! * y[bi]!;
          s1 += x[ai + ac]! * y[bi + br]!;
          s2 += x[ai + 2 * ac]! * y[bi + 2 * br]!;
          s3 += x[ai + 3 * ac]! * y[bi + 3 * br]!;
        }
        for (; p < k; p++, ai += ac, bi += br) s0 += x[ai]! * y[bi]!;
        c[i * n + j] = s0 + s1 + (s2 + s3);
      }
    }
    return;
  }
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = x[ao + i * ar + p * ac]!;
      const ci = i * n;
      for (let j = 0, bj = bo + p * br; j < n; j++, bj += bc) c[ci + j] += av * y[bj]!;
    }
  }
}

/** True when packing pays: enough work, and both sides of C wide enough to fill micro-tiles. */
export function useGemm(m: number, n: number, k: number): boolean {
  return m >= 8 && n >= 8 && m * n * k > DIRECT_LIMIT;
}

/** The matmul kernel: blocked gemm per batch entry, accumulated in double precision. */
export const matmulKernel: CpuKernel = ([a, b], _attrs, out) => {
  const r = out.shape.length;
  const m = out.shape[r - 2]!;
  const n = out.shape[r - 1]!;
  const k = a!.shape[a!.shape.length - 1]!;
  const dst = allocTyped(out.dtype, numel(out.shape));
  if (dst.length === 0) return dst;
  const isFloat = out.dtype === 'f32' || out.dtype === 'f64';
  // f64 results accumulate straight into the output; others through one double scratch matrix.
  const direct = out.dtype === 'f64';
  const scratch = direct ? (dst as Float64Array) : new Float64Array(m * n);
  const store = storeFor(out.dtype);
  forEachBatch(a!, b!, out, (aOffset, bOffset, index) => {
    const A = operand(a!, aOffset);
    const B = operand(b!, bOffset);
    const cOffset = direct ? index * m * n : 0;
    if (!isFloat || !useGemm(m, n, k)) {
      directProduct(m, n, k, A, B, direct ? scratch.subarray(cOffset, cOffset + m * n) : scratch);
    } else {
      if (!direct) scratch.fill(0);
      gemm(m, n, k, A, B, scratch, cOffset, n);
    }
    if (!direct) writeBack(scratch, dst, index * m * n, m * n, store);
  });
  return dst;
};

function writeBack(src: Float64Array, dst: TypedArray, at: number, count: number, store: (v: number) => number): void {
  for (let i = 0; i < count; i++) dst[at + i] = store(src[i]!);
}

/** The plain triple loop over strided, batch-broadcast operands: the matmul every fast path is tested against. */
export const matmulReference: CpuKernel = ([a, b], _attrs, out) => {
  const r = out.shape.length;
  const m = out.shape[r - 2]!;
  const n = out.shape[r - 1]!;
  const k = a!.shape[a!.shape.length - 1]!;
  const dst = allocTyped(out.dtype, numel(out.shape));
  const store = storeFor(out.dtype);
  const x = dataOf(a!);
  const y = dataOf(b!);
  const ra = a!.shape.length;
  const rb = b!.shape.length;
  forEachBatch(a!, b!, out, (aOffset, bOffset, index) => {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          s += x[aOffset + i * a!.strides[ra - 2]! + p * a!.strides[ra - 1]!]! * y[bOffset + p * b!.strides[rb - 2]! + j * b!.strides[rb - 1]!]!;
        }
        dst[index * m * n + i * n + j] = store(s);
      }
    }
  });
  return dst;
};
