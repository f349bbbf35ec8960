// Fused f32 attention on the WebAssembly SIMD gemm: for a chunk of heads at a time, the score tiles
// Q Kᵀ (T × S per head) and the products with V, dO, K and Q run as one batch of per-head products,
// split across the engine's threads (each head's product is too small to split by itself: 128×128×64
// on the training shapes), and only the softmax, the masks and dS = P ∘ (dP - delta) are TypeScript
// loops over the tiles, with fastExp. The row kernels (attention-forward.ts, attention-grad-q.ts,
// attention-grad-kv.ts) run the same math a scalar at a time in double; on the training shapes they ran
// ~25× slower than this per multiply-add. f64, small heads (T or S below 8) and products the engine
// cannot hold go to the row kernels.
import { OPS, type OpDef, type TensorView, type TypedArray } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { recycleF32, resultArray, takeF32 } from '../f32-array-pool.js';
import type { MatrixOperand } from '../gemm.js';
import { forEachRow } from '../strided.js';
import type { WasmGemm } from '../wasm/wasm-gemm.js';
import { wasmSumRowsF32 } from '../wasm/wasm-reduce.js';
import { attentionForwardKernel, attentionKernel } from './attention-forward.js';
import { attentionHeads, type HeadsOp } from './attention-heads.js';
import { attentionGradKVKernel } from './attention-grad-kv.js';
import { attentionGradQKernel } from './attention-grad-q.js';
import { fastExp } from './fast-exp.js';
import { attentionDims, checkNoDropout, MaskReader, RowStat, visibleKeys, type AttentionDims, type FusedAttentionAttrs } from './attention-rows.js';

/** A row-major (rows × cols) matrix of a score tile array at `offset`, or its transpose. */
const matrix = (data: Float32Array, offset: number, cols: number, transposed = false): MatrixOperand =>
  transposed ? { data, offset, rowStride: 1, colStride: cols } : { data, offset, rowStride: cols, colStride: 1 };

/**
 * Head (b, h) of a (B, H, rows, cols) view as a matrix, or its transpose, read through the view's own
 * strides: the gemm packs any strides, so the (B, T, H, D) → (B, H, T, D) permutes of q, k, v and dO
 * are never copied.
 */
const headMatrix = (x: TensorView, b: number, h: number, transposed = false): MatrixOperand => {
  const [s0, s1, s2, s3] = x.strides as [number, number, number, number];
  const offset = x.offset + b * s0 + h * s1;
  const data = dataOf(x);
  return transposed ? { data, offset, rowStride: s3, colStride: s2 } : { data, offset, rowStride: s2, colStride: s3 };
};

/** q, k, v and (for the gradient ops, inputs[3]) dO as views; without dO, `dO` is q. */
interface AttentionViews {
  readonly q: TensorView;
  readonly k: TensorView;
  readonly v: TensorView;
  readonly dO: TensorView;
}

const viewsOf = (inputs: readonly TensorView[], withGrad: boolean): AttentionViews => ({ q: inputs[0]!, k: inputs[1]!, v: inputs[2]!, dO: withGrad ? inputs[3]! : inputs[0]! });

/** True when the gemm path applies: f32 throughout, heads of at least 8 queries and 8 keys that the engine can hold. */
function gemmApplies(inputs: readonly TensorView[], dims: AttentionDims, gemm: () => WasmGemm): boolean {
  const { t, s, d, dv } = dims;
  // The engine is created only once a head qualifies (f64 and tiny heads never start it).
  return inputs.every((x) => x.dtype === 'f32' || x.dtype === 'bool') && t >= 8 && s >= 8 && gemm().fits(Math.max(t, s), Math.max(t, s), Math.max(t, s, d, dv));
}

/** Options of the gemm attention kernels: the engine (created on first use) and when to split heads' products across its threads. */
export interface AttentionGemm {
  readonly gemm: () => WasmGemm;
  /**
   * A batch of per-head products runs as one threaded batch (entries split across the engine's
   * threads) from this many multiply-adds in all; below it, one product after another on the calling thread.
   */
  readonly minBatchWork: number;
  /** The most score elements (heads × T × S) one chunk of heads holds, so long sequences stay in bounded memory. */
  readonly maxChunkScores: number;
  /** Heads of at most this many scores (T × S) run whole on each thread (attention-heads.ts); larger ones, or all at 0, as chunks of batched products. */
  readonly maxHeadScores: number;
}

/** Heads of up to 2048 × 2048 scores run whole per thread (their scratch stays under attention-heads.ts's MAX_HEAD_SCRATCH). */
export const MAX_HEAD_SCORES = 1 << 22;

/**
 * The op as whole heads per thread when its heads are small enough, else null. The heads split across
 * threads from `minBatchWork` multiply-adds in all, as the batched products do.
 */
function viaHeads(opts: AttentionGemm, op: HeadsOp, lseColumn: 0 | 1, inputs: readonly TensorView[], attrs: FusedAttentionAttrs, dims: AttentionDims): Float32Array | null {
  if (dims.t * dims.s > opts.maxHeadScores) return null;
  const engine = opts.gemm();
  const units = op === 2 ? dims.b * dims.hkv : dims.b * dims.h;
  const work = dims.b * dims.h * dims.t * dims.s * (dims.d + dims.dv) * (op === 0 ? 1 : op === 1 ? 1.5 : 2);
  return attentionHeads(engine, op, lseColumn, inputs, attrs, dims, engine.threads > 1 && units >= 2 && work >= opts.minBatchWork);
}

/** Multiply-adds from which a batch of head products is split across threads (as the engine splits one product). */
export const MIN_BATCH_WORK = 1 << 21;
/** Score elements per chunk of heads by default (16 MiB of scores, and as much for their gradients). */
export const MAX_CHUNK_SCORES = 1 << 22;

/** The heads of one chunk: (b, h) pairs in order, each with its kv head. */
interface HeadChunk {
  readonly first: number;
  readonly count: number;
}

/** Chunks of whole heads (of B·H) holding at most `maxScores` scores each (one kv group at least); a kv group never straddles two. */
function headChunks(dims: AttentionDims, maxScores: number): HeadChunk[] {
  const total = dims.b * dims.h;
  const per = Math.max(dims.group, Math.floor(maxScores / (dims.t * dims.s) / dims.group) * dims.group);
  const chunks: HeadChunk[] = [];
  for (let first = 0; first < total; first += per) chunks.push({ first, count: Math.min(per, total - first) });
  return chunks;
}

/**
 * out[e·m·n + i·n + j] = (as[e]·bs[e])[i, j] for every entry: one threaded batch when the engine has
 * threads and the batch is large enough, else one product at a time (each may still split by itself).
 */
function products(opts: AttentionGemm, engine: WasmGemm, m: number, n: number, k: number, as: readonly MatrixOperand[], bs: readonly MatrixOperand[], out: Float32Array): void {
  const work = m * n * k;
  if (engine.threads > 1 && as.length >= 2 && work * as.length >= opts.minBatchWork && engine.fitsBatch(as.length, m, n, k)) engine.matmulBatch(m, n, k, as, bs, out);
  else for (let e = 0; e < as.length; e++) engine.matmul(m, n, k, as[e]!, bs[e]!, out, e * m * n);
}

/** The (b, h) of head `e` of B·H and its kv head hk (of Hkv). */
const headOf = (e: number, dims: AttentionDims): { b: number; h: number; hk: number } => {
  const b = Math.floor(e / dims.h);
  const h = e - b * dims.h;
  return { b, h, hk: Math.floor(h / dims.group) };
};

/** Scales head `e`'s scores (at `at` in `sc`) and applies the causal and padding masks (-inf where hidden). */
function maskScores(sc: Float32Array, at: number, e: number, dims: AttentionDims, attrs: FusedAttentionAttrs, mask: MaskReader | null): void {
  const { t, s } = dims;
  const { scale, causal } = attrs;
  const { b, h } = headOf(e, dims);
  for (let i = 0; i < t; i++) {
    const end = visibleKeys(causal, i, dims);
    const row = at + i * s;
    for (let j = 0; j < end; j++) sc[row + j] = sc[row + j]! * scale;
    for (let j = end; j < s; j++) sc[row + j] = -Infinity;
    if (mask) for (let j = 0, m = mask.rowOffset(b, h, i); j < end; j++, m += mask.step) sc[row + j] = mask.apply(sc[row + j]!, m);
  }
}

/**
 * The masked scores of a chunk's heads into `sc` (head e - first at (e - first)·T·S), and, with
 * `dp`, dO Vᵀ of each head into `dp`: the products of every head in one batch each.
 */
function chunkScores(opts: AttentionGemm, engine: WasmGemm, ops: AttentionViews, dims: AttentionDims, attrs: FusedAttentionAttrs, mask: MaskReader | null, chunk: HeadChunk, sc: Float32Array, dp: Float32Array | null): void {
  const { t, s, d, dv } = dims;
  const qs: MatrixOperand[] = [];
  const ks: MatrixOperand[] = [];
  const dos: MatrixOperand[] = [];
  const vs: MatrixOperand[] = [];
  for (let e = chunk.first; e < chunk.first + chunk.count; e++) {
    const { b, h, hk } = headOf(e, dims);
    qs.push(headMatrix(ops.q, b, h));
    ks.push(headMatrix(ops.k, b, hk, true));
    if (dp) {
      dos.push(headMatrix(ops.dO, b, h));
      vs.push(headMatrix(ops.v, b, hk, true));
    }
  }
  products(opts, engine, t, s, d, qs, ks, sc);
  for (let c = 0; c < chunk.count; c++) maskScores(sc, c * t * s, chunk.first + c, dims, attrs, mask);
  if (dp) products(opts, engine, t, s, dv, dos, vs, dp);
}

/** scores := P = exp(s - lse_i) and grads := dS = P ∘ (dO Vᵀ - delta_i) for head e (both at `at`). */
function probabilitiesAndScoreGrad(p: Float32Array, ds: Float32Array, at: number, e: number, dims: AttentionDims, causal: boolean, lse: RowStat, delta: RowStat): void {
  const { t, s } = dims;
  const { b, h } = headOf(e, dims);
  for (let i = 0; i < t; i++) {
    const l = lse.at(b, h, i);
    const dl = delta.at(b, h, i);
    // Causally hidden keys have P = exp(-inf - lse) = 0 without an exp, unless lse is -inf or NaN
    // (a row with every key masked), where the decomposition's P is NaN for every key.
    const end = l > -Infinity ? visibleKeys(causal, i, dims) : s;
    const row = at + i * s;
    for (let j = 0, q = row; j < end; j++, q++) {
      const pij = fastExp(p[q]! - l);
      p[q] = pij;
      ds[q] = pij * (ds[q]! - dl);
    }
    p.fill(0, row + end, row + s);
    ds.fill(0, row + end, row + s);
  }
}

/** attention (extra 0) or attentionForward (extra 1: lse in the last column) on the gemm. */
function forward(opts: AttentionGemm, extra: 0 | 1, rows: CpuKernel<FusedAttentionAttrs>, op: string): CpuKernel<FusedAttentionAttrs> {
  return (inputs, attrs, out) => {
    checkNoDropout(op, attrs);
    const dims = attentionDims(op, inputs[0]!, inputs[1]!, inputs[2]!);
    if (!gemmApplies(inputs, dims, opts.gemm)) return rows(inputs, attrs, out);
    const heads = viaHeads(opts, 0, extra, inputs, attrs, dims);
    if (heads) return heads;
    const engine = opts.gemm();
    const { b: B, h: H, t: T, s: S, dv: Dv } = dims;
    const width = Dv + extra;
    const dst = resultArray(out.dtype, B * H * T * width);
    const ops = viewsOf(inputs, false);
    const mask = attrs.hasMask ? new MaskReader(inputs[3]!, dims) : null;
    const chunks = headChunks(dims, opts.maxChunkScores);
    const most = chunks[0]!.count;
    const sc = takeF32(most * T * S);
    const o = takeF32(most * T * Dv);
    for (const chunk of chunks) {
      chunkScores(opts, engine, ops, dims, attrs, mask, chunk, sc, null);
      const ps: MatrixOperand[] = [];
      const vs: MatrixOperand[] = [];
      for (let c = 0; c < chunk.count; c++) {
        ps.push(matrix(sc, c * T * S, S));
        const { b, hk } = headOf(chunk.first + c, dims);
        vs.push(headMatrix(ops.v, b, hk));
      }
      // Softmax rows in place (unnormalised weights; 1/sum and lse kept per row until the product).
      const norms = new Float64Array(chunk.count * T);
      const lses = new Float64Array(chunk.count * T);
      for (let c = 0; c < chunk.count; c++) {
        for (let i = 0; i < T; i++) {
          const row = (c * T + i) * S;
          // Keys past `end` are causally hidden: their weight is 0 (no exp needed).
          const end = visibleKeys(attrs.causal, i, dims);
          let m = -Infinity;
          for (let j = 0; j < end; j++) {
            const v = sc[row + j]!;
            if (v > m || v !== v) m = v;
          }
          let sum = 0;
          for (let j = 0; j < end; j++) {
            const e = fastExp(sc[row + j]! - m);
            sc[row + j] = e;
            sum += e;
          }
          sc.fill(0, row + end, row + S);
          // Every key masked (m = -inf) or a NaN/inf score: NaN, as the decomposition's softmax and logsumexp give.
          const bad = !(m > -Infinity) || m === Infinity;
          norms[c * T + i] = bad ? NaN : 1 / sum;
          lses[c * T + i] = bad ? NaN : m + Math.log(sum);
        }
      }
      products(opts, engine, T, Dv, S, ps, vs, o);
      for (let c = 0; c < chunk.count; c++) {
        const e = chunk.first + c;
        for (let i = 0; i < T; i++) {
          const at = (e * T + i) * width;
          const r = norms[c * T + i]!;
          const src = (c * T + i) * Dv;
          for (let x = 0; x < Dv; x++) dst[at + x] = o[src + x]! * r;
          if (extra) dst[at + Dv] = lses[c * T + i]!;
        }
      }
    }
    recycleF32(sc);
    recycleF32(o);
    return dst;
  };
}

/** attentionGradQ on the gemm: dQ = scale · dS K per head. */
function gradQ(opts: AttentionGemm): CpuKernel<FusedAttentionAttrs> {
  return (inputs, attrs, out) => {
    checkNoDropout('attentionGradQ', attrs);
    const dims = attentionDims('attentionGradQ', inputs[0]!, inputs[1]!, inputs[2]!);
    if (!gemmApplies(inputs, dims, opts.gemm)) return attentionGradQKernel(inputs, attrs, out);
    const heads = viaHeads(opts, 1, 0, inputs, attrs, dims);
    if (heads) return heads;
    const engine = opts.gemm();
    const { b: B, h: H, t: T, s: S, d: D } = dims;
    const dst = resultArray(out.dtype, B * H * T * D) as Float32Array;
    const ops = viewsOf(inputs, true);
    const [lse, delta] = [new RowStat(inputs[4]!), new RowStat(inputs[5]!)];
    const mask = attrs.hasMask ? new MaskReader(inputs[6]!, dims) : null;
    const chunks = headChunks(dims, opts.maxChunkScores);
    const most = chunks[0]!.count;
    const sc = takeF32(most * T * S);
    const ds = takeF32(most * T * S);
    for (const chunk of chunks) {
      chunkScores(opts, engine, ops, dims, attrs, mask, chunk, sc, ds);
      const dss: MatrixOperand[] = [];
      const ks: MatrixOperand[] = [];
      for (let c = 0; c < chunk.count; c++) {
        probabilitiesAndScoreGrad(sc, ds, c * T * S, chunk.first + c, dims, attrs.causal, lse, delta);
        dss.push(matrix(ds, c * T * S, S));
        const { b, hk } = headOf(chunk.first + c, dims);
        ks.push(headMatrix(ops.k, b, hk));
      }
      const at = chunk.first * T * D;
      products(opts, engine, T, D, S, dss, ks, dst.subarray(at, at + chunk.count * T * D));
    }
    for (let e = 0; e < dst.length; e++) dst[e] = dst[e]! * attrs.scale;
    recycleF32(sc);
    recycleF32(ds);
    return dst;
  };
}

/** attentionGradKV on the gemm: dK = scale · dSᵀ Q and dV = Pᵀ dO per head, summed over each kv head's group. */
function gradKV(opts: AttentionGemm): CpuKernel<FusedAttentionAttrs> {
  return (inputs, attrs, out) => {
    checkNoDropout('attentionGradKV', attrs);
    const dims = attentionDims('attentionGradKV', inputs[0]!, inputs[1]!, inputs[2]!);
    if (!gemmApplies(inputs, dims, opts.gemm) || dims.dv !== dims.d) return attentionGradKVKernel(inputs, attrs, out);
    const heads = viaHeads(opts, 2, 0, inputs, attrs, dims);
    if (heads) return heads;
    const engine = opts.gemm();
    const { b: B, hkv: Hkv, t: T, s: S, d: D, group } = dims;
    const half = B * Hkv * S * D;
    const dst = resultArray(out.dtype, 2 * half) as Float32Array;
    const ops = viewsOf(inputs, true);
    const [lse, delta] = [new RowStat(inputs[4]!), new RowStat(inputs[5]!)];
    const mask = attrs.hasMask ? new MaskReader(inputs[6]!, dims) : null;
    const chunks = headChunks(dims, opts.maxChunkScores);
    const most = chunks[0]!.count;
    const sc = takeF32(most * T * S);
    const ds = takeF32(most * T * S);
    // Per-head dK and dV, summed over each group afterwards (with one head per group, written in place).
    const part = group > 1 ? takeF32(2 * most * S * D) : null;
    for (const chunk of chunks) {
      chunkScores(opts, engine, ops, dims, attrs, mask, chunk, sc, ds);
      const dsT: MatrixOperand[] = [];
      const pT: MatrixOperand[] = [];
      const qs: MatrixOperand[] = [];
      const dos: MatrixOperand[] = [];
      for (let c = 0; c < chunk.count; c++) {
        const e = chunk.first + c;
        probabilitiesAndScoreGrad(sc, ds, c * T * S, e, dims, attrs.causal, lse, delta);
        dsT.push(matrix(ds, c * T * S, S, true));
        pT.push(matrix(sc, c * T * S, S, true));
        const { b, h } = headOf(e, dims);
        qs.push(headMatrix(ops.q, b, h));
        dos.push(headMatrix(ops.dO, b, h));
      }
      const size = chunk.count * S * D;
      // Heads first..first+count are kv heads first/group.. of B·Hkv (a chunk holds whole groups).
      const kvAt = (chunk.first / group) * S * D;
      const dk = part ? part.subarray(0, size) : dst.subarray(kvAt, kvAt + size);
      const dv = part ? part.subarray(size, 2 * size) : dst.subarray(half + kvAt, half + kvAt + size);
      products(opts, engine, S, D, T, dsT, qs, dk);
      products(opts, engine, S, D, T, pT, dos, dv);
      if (part) {
        for (let c = 0; c < chunk.count; c++) {
          const to = kvAt + Math.floor(c / group) * S * D;
          const first = c % group === 0;
          for (let x = 0; x < S * D; x++) {
            dst[to + x] = first ? dk[c * S * D + x]! : dst[to + x]! + dk[c * S * D + x]!;
            dst[half + to + x] = first ? dv[c * S * D + x]! : dst[half + to + x]! + dv[c * S * D + x]!;
          }
        }
      }
    }
    for (let e = 0; e < half; e++) dst[e] = dst[e]! * attrs.scale;
    recycleF32(sc);
    recycleF32(ds);
    if (part) recycleF32(part);
    return dst;
  };
}

/** Columns of the sums allFinite takes on the SIMD reduce module. */
const SCAN_COLS = 4096;
const scanSums = new Float64Array(SCAN_COLS);
let moduleScans = 0;
/**
 * Scans allFinite ran on the reduce module: they count in wasmReduceCalls too, so a test that asks
 * whether sums took the module takes these off.
 */
export const attentionModuleScans = (): number => moduleScans;

/**
 * True when every element of `data` is finite (x * 0 is 0 for finite x, NaN for NaN and ±Infinity).
 * An f32 array's whole rows of SCAN_COLS go through the reduce module's f64 column sums, finite exactly
 * when their elements are (no f32 values overflow an f64 sum): 0.19 ms for 512K elements where the
 * loop takes 0.46.
 */
function allFinite(data: TypedArray): boolean {
  let z = 0;
  let i = 0;
  const rows = Math.floor(data.length / SCAN_COLS);
  if (data instanceof Float32Array && rows > 0) {
    scanSums.fill(0);
    if (wasmSumRowsF32(scanSums, data, 0, rows, SCAN_COLS, SCAN_COLS)) {
      moduleScans++;
      for (let j = 0; j < SCAN_COLS; j++) z += scanSums[j]! * 0;
      i = rows * SCAN_COLS;
    }
  }
  for (; i < data.length; i++) z += (data[i] as number) * 0;
  return z === 0;
}

/** True when every element of the view is finite. */
function viewFinite(x: TensorView): boolean {
  const data = dataOf(x);
  let z = 0;
  forEachRow(x.shape, [x.strides], [x.offset], (offs, len, inner) => {
    for (let t = 0, at = offs[0]!; t < len; t++, at += inner[0]!) z += (data[at] as number) * 0;
  });
  return z === 0;
}

/**
 * The gemm kernels multiply every key's weight into their products (P V, Pᵀ dO, dO Vᵀ, dS K, dSᵀ Q),
 * a causally hidden or masked key's weight of 0 too, where the row kernels leave those keys out: an
 * infinite or NaN element of q, k, v or dO at such a key makes 0 · Infinity = NaN in results the row
 * kernels keep finite (found by test/special-values.test.ts). So when a result holds a non-finite
 * element and one of those operands (the first `operands` inputs) does too, the row kernel computes
 * it again. With finite operands, the non-finite results (fully masked rows, overflow) are the row
 * kernels' own; a finite result only costs the scan of it (allFinite: ~0.4 ns an element).
 */
function hiddenKeysLeftOut(fast: CpuKernel<FusedAttentionAttrs>, rows: CpuKernel<FusedAttentionAttrs>, operands: number): CpuKernel<FusedAttentionAttrs> {
  return (inputs, attrs, out) => {
    const result = fast(inputs, attrs, out);
    if (allFinite(result) || inputs.slice(0, operands).every(viewFinite)) return result;
    recycleF32(result);
    return rows(inputs, attrs, out);
  };
}

/** The four attention ops' kernels on the gemm engine (created on first use), each falling back to its row kernel. */
export function wasmAttentionKernels(gemm: () => WasmGemm, minBatchWork = MIN_BATCH_WORK, maxChunkScores = MAX_CHUNK_SCORES, maxHeadScores = MAX_HEAD_SCORES): [OpDef, CpuKernel][] {
  const opts: AttentionGemm = { gemm, minBatchWork, maxChunkScores, maxHeadScores };
  return [
    [OPS.attention, hiddenKeysLeftOut(forward(opts, 0, attentionKernel, 'attention'), attentionKernel, 3)],
    [OPS.attentionForward, hiddenKeysLeftOut(forward(opts, 1, attentionForwardKernel, 'attentionForward'), attentionForwardKernel, 3)],
    [OPS.attentionGradQ, hiddenKeysLeftOut(gradQ(opts), attentionGradQKernel, 4)],
    [OPS.attentionGradKV, hiddenKeysLeftOut(gradKV(opts), attentionGradKVKernel, 4)],
  ];
}
