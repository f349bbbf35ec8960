// Fused f32 attention on the WebAssembly SIMD gemm: per (batch, head), the head's score tile
// Q Kᵀ (T × S, one head at a time, reused) and the products with V, dO, K and Q run as gemm calls,
// and only the softmax, the masks and dS = P ∘ (dP - delta) are TypeScript loops over the tile.
// The row kernels (attention-forward.ts, attention-grad-q.ts, attention-grad-kv.ts) run the same
// math a scalar at a time in double; on the training shapes they ran ~25× slower than this per
// multiply-add, slower than the decomposition. f64, small heads (T or S below 8) and products the
// engine cannot hold go to the row kernels.
import { OPS, type OpDef, type TensorView } from '@tessera/tensor';
import type { CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import type { MatrixOperand } from '../gemm.js';
import type { WasmGemm } from '../wasm/wasm-gemm.js';
import { attentionForwardKernel, attentionKernel } from './attention-forward.js';
import { attentionGradKVKernel } from './attention-grad-kv.js';
import { attentionGradQKernel } from './attention-grad-q.js';
import { attentionDims, checkNoDropout, denseOperands, MaskReader, RowStat, visibleKeys, type AttentionDims, type AttentionOperands, type DenseOperand, type FusedAttentionAttrs } from './attention-rows.js';

/** A row-major (rows × cols) matrix of `x` at `offset`, or its transpose. */
const matrix = (x: DenseOperand | Float32Array, offset: number, cols: number, transposed = false): MatrixOperand => {
  const data = x instanceof Float32Array ? x : x.data;
  const at = x instanceof Float32Array ? offset : x.offset + offset;
  return transposed ? { data, offset: at, rowStride: 1, colStride: cols } : { data, offset: at, rowStride: cols, colStride: 1 };
};

/** True when the gemm path applies: f32 throughout, heads of at least 8 queries and 8 keys that the engine can hold. */
function gemmApplies(inputs: readonly TensorView[], dims: AttentionDims, gemm: () => WasmGemm): boolean {
  const { t, s, d, dv } = dims;
  // The engine is created only once a head qualifies (f64 and tiny heads never start it).
  return inputs.every((x) => x.dtype === 'f32' || x.dtype === 'bool') && t >= 8 && s >= 8 && gemm().fits(Math.max(t, s), Math.max(t, s), Math.max(t, s, d, dv));
}

/** One head's operands and the (T × S) tiles it reuses. */
class HeadTiles {
  readonly scores: Float32Array;
  readonly grads: Float32Array;
  private readonly mask: MaskReader | null;

  constructor(
    private readonly gemm: WasmGemm,
    readonly dims: AttentionDims,
    private readonly attrs: FusedAttentionAttrs,
    maskView: TensorView | undefined,
  ) {
    this.scores = new Float32Array(dims.t * dims.s);
    this.grads = new Float32Array(dims.t * dims.s);
    this.mask = attrs.hasMask ? new MaskReader(maskView!, dims) : null;
  }

  /** scores[i, j] = scale · q_i · k_j with the causal and padding masks applied (-inf where hidden). */
  maskedScores(q: DenseOperand, qAt: number, k: DenseOperand, kAt: number, b: number, h: number): Float32Array {
    const { t, s, d } = this.dims;
    const sc = this.scores;
    this.gemm.matmul(t, s, d, matrix(q, qAt, d), matrix(k, kAt, d, true), sc, 0);
    const { scale, causal } = this.attrs;
    const mask = this.mask;
    for (let i = 0; i < t; i++) {
      const end = visibleKeys(causal, i, this.dims);
      const row = i * s;
      for (let j = 0; j < end; j++) sc[row + j] = sc[row + j]! * scale;
      for (let j = end; j < s; j++) sc[row + j] = -Infinity;
      if (mask) for (let j = 0, at = mask.rowOffset(b, h, i); j < end; j++, at += mask.step) sc[row + j] = mask.apply(sc[row + j]!, at);
    }
    return sc;
  }

  /** scores := P = exp(s - lse_i) and grads := dS = P ∘ (dO Vᵀ - delta_i), for the head's gradient kernels. */
  probabilitiesAndScoreGrad(ops: AttentionOperands, lse: RowStat, delta: RowStat, b: number, h: number): void {
    const { t, s, d, dv, h: H, hkv, group } = this.dims;
    const head = (b * H + h) * t;
    const kvHead = b * hkv + Math.floor(h / group);
    const p = this.maskedScores(ops.q, head * d, ops.k, kvHead * s * d, b, h);
    const ds = this.grads;
    this.gemm.matmul(t, s, dv, matrix(ops.dO, head * dv, dv), matrix(ops.v, kvHead * s * dv, dv, true), ds, 0);
    for (let i = 0; i < t; i++) {
      const l = lse.at(b, h, i);
      const dl = delta.at(b, h, i);
      // Causally hidden keys have P = exp(-inf - lse) = 0 without an exp, unless lse is -inf or NaN
      // (a row with every key masked), where the decomposition's P is NaN for every key.
      const end = l > -Infinity ? visibleKeys(this.attrs.causal, i, this.dims) : s;
      const row = i * s;
      for (let j = 0, at = row; j < end; j++, at++) {
        const pij = Math.exp(p[at]! - l);
        p[at] = pij;
        ds[at] = pij * (ds[at]! - dl);
      }
      p.fill(0, row + end, row + s);
      ds.fill(0, row + end, row + s);
    }
  }
}

/** attention (extra 0) or attentionForward (extra 1: lse in the last column) on the gemm. */
function forward(gemm: () => WasmGemm, extra: 0 | 1, rows: CpuKernel<FusedAttentionAttrs>, op: string): CpuKernel<FusedAttentionAttrs> {
  return (inputs, attrs, out) => {
    checkNoDropout(op, attrs);
    const dims = attentionDims(op, inputs[0]!, inputs[1]!, inputs[2]!);
    if (!gemmApplies(inputs, dims, gemm)) return rows(inputs, attrs, out);
    const engine = gemm();
    const { b: B, h: H, hkv: Hkv, t: T, s: S, d: D, dv: Dv, group } = dims;
    const width = Dv + extra;
    const dst = resultArray(out.dtype, B * H * T * width);
    const ops = denseOperands(inputs, false);
    const tiles = new HeadTiles(engine, dims, attrs, inputs[3]);
    const o = new Float32Array(T * Dv);
    const inv = new Float64Array(T);
    const lse = new Float64Array(T);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const kvHead = b * Hkv + Math.floor(h / group);
        const p = tiles.maskedScores(ops.q, (b * H + h) * T * D, ops.k, kvHead * S * D, b, h);
        for (let i = 0; i < T; i++) {
          const row = i * S;
          // Keys past `end` are causally hidden: their weight is 0 (no exp needed).
          const end = visibleKeys(attrs.causal, i, dims);
          let m = -Infinity;
          for (let j = 0; j < end; j++) {
            const v = p[row + j]!;
            if (v > m || v !== v) m = v;
          }
          let sum = 0;
          for (let j = 0; j < end; j++) {
            const e = Math.exp(p[row + j]! - m);
            p[row + j] = e;
            sum += e;
          }
          p.fill(0, row + end, row + S);
          // Every key masked (m = -inf) or a NaN/inf score: NaN, as the decomposition's softmax and logsumexp give.
          const bad = !(m > -Infinity) || m === Infinity;
          inv[i] = bad ? NaN : 1 / sum;
          lse[i] = bad ? NaN : m + Math.log(sum);
        }
        engine.matmul(T, Dv, S, matrix(p, 0, S), matrix(ops.v, kvHead * S * Dv, Dv), o, 0);
        for (let i = 0; i < T; i++) {
          const at = ((b * H + h) * T + i) * width;
          const r = inv[i]!;
          for (let e = 0; e < Dv; e++) dst[at + e] = o[i * Dv + e]! * r;
          if (extra) dst[at + Dv] = lse[i]!;
        }
      }
    }
    return dst;
  };
}

/** attentionGradQ on the gemm: dQ = scale · dS K per head. */
function gradQ(gemm: () => WasmGemm): CpuKernel<FusedAttentionAttrs> {
  return (inputs, attrs, out) => {
    checkNoDropout('attentionGradQ', attrs);
    const dims = attentionDims('attentionGradQ', inputs[0]!, inputs[1]!, inputs[2]!);
    if (!gemmApplies(inputs, dims, gemm)) return attentionGradQKernel(inputs, attrs, out);
    const engine = gemm();
    const { b: B, h: H, hkv: Hkv, t: T, s: S, d: D, group } = dims;
    const dst = resultArray(out.dtype, B * H * T * D) as Float32Array;
    const ops = denseOperands(inputs, true);
    const [lse, delta] = [new RowStat(inputs[4]!), new RowStat(inputs[5]!)];
    const tiles = new HeadTiles(engine, dims, attrs, inputs[6]);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        tiles.probabilitiesAndScoreGrad(ops, lse, delta, b, h);
        const kvHead = b * Hkv + Math.floor(h / group);
        const at = (b * H + h) * T * D;
        engine.matmul(T, D, S, matrix(tiles.grads, 0, S), matrix(ops.k, kvHead * S * D, D), dst, at);
        for (let e = at; e < at + T * D; e++) dst[e] = dst[e]! * attrs.scale;
      }
    }
    return dst;
  };
}

/** attentionGradKV on the gemm: dK = scale · dSᵀ Q and dV = Pᵀ dO per head, summed over each kv head's group. */
function gradKV(gemm: () => WasmGemm): CpuKernel<FusedAttentionAttrs> {
  return (inputs, attrs, out) => {
    checkNoDropout('attentionGradKV', attrs);
    const dims = attentionDims('attentionGradKV', inputs[0]!, inputs[1]!, inputs[2]!);
    if (!gemmApplies(inputs, dims, gemm) || dims.dv !== dims.d) return attentionGradKVKernel(inputs, attrs, out);
    const engine = gemm();
    const { b: B, h: H, hkv: Hkv, t: T, s: S, d: D, group } = dims;
    const half = B * Hkv * S * D;
    const dst = resultArray(out.dtype, 2 * half) as Float32Array;
    const ops = denseOperands(inputs, true);
    const [lse, delta] = [new RowStat(inputs[4]!), new RowStat(inputs[5]!)];
    const tiles = new HeadTiles(engine, dims, attrs, inputs[6]);
    const part = new Float32Array(S * D);
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < Hkv; g++) {
        const kAt = (b * Hkv + g) * S * D;
        for (let h = g * group; h < (g + 1) * group; h++) {
          tiles.probabilitiesAndScoreGrad(ops, lse, delta, b, h);
          const qAt = (b * H + h) * T * D;
          // The first head of the group writes the result rows, the others add into them.
          const first = h === g * group;
          for (const [a, x, base] of [[tiles.grads, ops.q, kAt], [tiles.scores, ops.dO, half + kAt]] as const) {
            engine.matmul(S, D, T, matrix(a, 0, S, true), matrix(x, qAt, D), first ? dst : part, first ? base : 0);
            if (!first) for (let e = 0; e < S * D; e++) dst[base + e] = dst[base + e]! + part[e]!;
          }
        }
        for (let e = kAt; e < kAt + S * D; e++) dst[e] = dst[e]! * attrs.scale;
      }
    }
    return dst;
  };
}

/** The four attention ops' kernels on `gemm()` (created on first use), each falling back to its row kernel. */
export function wasmAttentionKernels(gemm: () => WasmGemm): [OpDef, CpuKernel][] {
  return [
    [OPS.attention, forward(gemm, 0, attentionKernel, 'attention')],
    [OPS.attentionForward, forward(gemm, 1, attentionForwardKernel, 'attentionForward')],
    [OPS.attentionGradQ, gradQ(gemm)],
    [OPS.attentionGradKV, gradKV(gemm)],
  ];
}
