// Whole attention heads end to end on one thread: the head's products on the gemm module's exports
// (operands packed by the module from raw copies in the shared memory, as `job` packs them for large
// products) and the softmax, masks and dS = P ∘ (dP - delta) between them, in this thread's own
// scratch. The calling thread and each gemm worker run heads [start, end) of one op at once, so no
// thread waits while another runs a JS loop, and nothing is packed or copied out per product in JS.
// The worker compiles these functions from their source text (like wasm/row-tasks.ts), so they are
// self-contained: no imports and no module constants, only each other (by name) and globals like Math.
//
// The op's description is an Int32 header in the shared memory at byte `header` (kernels/attention-heads.ts
// writes it; its SLOT constants name the slots): 0 op (0 forward, 1 gradQ, 2 gradKV), 1-7 B, H,
// group, T, S, D, Dv, 8 causal, 9 mask (0 none, 1 bool, 2 additive), 10 lse column (forward),
// 11-13 MR, NR, KC of the gemm build, 14 scratch of thread 0 (bytes), 15 scratch bytes per thread,
// 16-20 q (float index of element 0, then its four strides), 21-25 k, 26-30 v, 31-35 dO, 36-40 the
// mask (broadcast strides, 0 where it broadcasts), 41 lse and 42 delta (dense B·H·T floats), 43 the
// output (dense floats), 44-50 byte offsets in a thread's scratch of packed A, packed B, C1-C4 and
// the row statistics (3T floats); the f64 scale at byte header + 208, the f32 scale at + 216 and an
// f32 1 at + 220 (factors for attnScaleRows).

/** The gemm module's exports a task calls. */
export interface AttentionExports {
  readonly job: (pa: number, pb: number, pc: number, mPad: number, nPad: number, k: number, nStart: number, nEnd: number, src: number, rs: number, cs: number, n: number, kind: number) => void;
  readonly gemm: (pa: number, pb: number, pc: number, mPad: number, nPad: number, k: number, nStart: number, nEnd: number) => void;
  readonly gemmWindow: (pa: number, pb: number, pc: number, mPad: number, nPad: number, k: number, nStart: number, nEnd: number, aStride: number, bStride: number) => void;
  /** The row loops in WebAssembly SIMD (wasm/attention-rows-wat.ts). */
  readonly attnSoftmax: (c: number, ld: number, rows: number, s: number, skew: number, causal: number, scale: number, stats: number) => void;
  readonly attnGrad: (c1: number, c2: number, ld: number, rows: number, s: number, skew: number, causal: number, scale: number, lse: number, delta: number) => void;
  readonly attnScaleRows: (dst: number, ldd: number, src: number, lds: number, rows: number, cols: number, scales: number, sstep: number, add: number) => void;
}

/** Bytes of the header the task reads (the f64 scale included). */
export const ATTENTION_HEADER_BYTES = 256;

/**
 * C (at byte `pc`, rows ceil(n/NR)·NR floats apart) = A·B for m×k A whose element (i, p) is the f32 at
 * byte a + 4(i·ars + p·acs) and k×n B with (p, j) at b + 4(p·brs + j·bcs): the module packs both
 * (job kind 3 packs A; kind 0 with a source packs B). When `causal` (a score tile whose row i sees
 * columns j <= i + skew), rows go in blocks of 4·MR and each block multiplies only the B slivers
 * its last row sees, about half the work of a square tile; the rest of C is left as it was.
 */
function attnProduct(x: AttentionExports, pa: number, pb: number, pc: number, m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, mr: number, nr: number, kc: number, causal: boolean, skew: number): void {
  const mPad = Math.ceil(m / mr) * mr;
  const nPad = Math.ceil(n / nr) * nr;
  x.job(pa, pb, pc, mPad, nPad, k, 0, mPad / mr, a, ars, acs, m, 3);
  // A row block's slivers start i0·k floats into packed A only while A is one depth block (k <= KC).
  if (!causal || k > kc) {
    x.job(pa, pb, pc, mPad, nPad, k, 0, nPad / nr, b, brs, bcs, n, 0);
    return;
  }
  // mPad 0: pack B and multiply nothing.
  x.job(pa, pb, pc, 0, nPad, k, 0, nPad / nr, b, brs, bcs, n, 0);
  const block = 4 * mr;
  for (let i0 = 0; i0 < mPad; i0 += block) {
    const rows = Math.min(block, mPad - i0);
    const seen = Math.max(0, Math.min(n, Math.min(i0 + rows, m) + skew));
    if (seen > 0) x.gemm(pa + 4 * i0 * k, pb, pc + 4 * i0 * nPad, rows, nPad, k, 0, Math.ceil(seen / nr));
  }
}

/**
 * attnProduct (no skew) for a product whose depth runs along a causal tile's keys or queries, skipping
 * the depths where A is zero: `ext[i]` is how many keys query i's row of P or dS may be nonzero for
 * (P and dS are 0 past it). With `keysAlong` A's rows are queries and its depth keys (P V, dS K): a
 * block of rows multiplies depths 0 .. the block's largest ext. Else A's rows are keys and its depth
 * queries (Pᵀ dO, dSᵀ Q): a block of keys from j0 multiplies depths from the first query that sees j0.
 * Within one depth block (k <= KC) only; larger depths multiply everything.
 */
function attnProductWindowed(x: AttentionExports, f: Float32Array, pa: number, pb: number, pc: number, m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, mr: number, nr: number, kc: number, ext: Int32Array, keysAlong: boolean): void {
  const mPad = Math.ceil(m / mr) * mr;
  const nPad = Math.ceil(n / nr) * nr;
  x.job(pa, pb, pc, mPad, nPad, k, 0, mPad / mr, a, ars, acs, m, 3);
  // mPad 0: pack B and multiply nothing.
  x.job(pa, pb, pc, 0, nPad, k, 0, nPad / nr, b, brs, bcs, n, 0);
  if (k > kc) {
    x.gemm(pa, pb, pc, mPad, nPad, k, 0, nPad / nr);
    return;
  }
  const block = 4 * mr;
  for (let i0 = 0; i0 < mPad; i0 += block) {
    const rows = Math.min(block, mPad - i0);
    let lo = 0;
    let hi = k;
    if (keysAlong) {
      hi = 0;
      for (let i = i0; i < Math.min(i0 + rows, m); i++) if (ext[i]! > hi) hi = ext[i]!;
    } else {
      lo = k;
      for (let i = 0; i < k; i++) {
        if (ext[i]! > i0) {
          lo = i;
          break;
        }
      }
    }
    const c = pc + 4 * i0 * nPad;
    if (hi <= lo) f.fill(0, c >> 2, (c >> 2) + rows * nPad);
    else x.gemmWindow(pa + 4 * (i0 * k + lo * mr), pb + 4 * lo * nr, c, rows, nPad, hi - lo, 0, nPad / nr, 4 * k * mr, 4 * k * nr);
  }
}

/** e^t as kernels/fast-exp.ts computes it (`p2` is its table of 2^-290 .. 2^290). */
function attnExp(t: number, p2: Float64Array): number {
  if (!(t > -200 && t < 200)) return Math.exp(t);
  const k = t * Math.LOG2E + 6755399441055744 - 6755399441055744;
  const r = t - k * 0.6931471803691238 - k * 1.9082149292705877e-10;
  return (1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))))) * p2[(k | 0) + 290]!;
}

/**
 * The first `end` scores of a row at `row`, scaled and masked in place (bool mask: -inf where 0;
 * additive: + m; its values at mAt, mStep apart); returns their max (NaN if any is NaN).
 */
function attnMaskRow(f: Float32Array, row: number, end: number, scale: number, maskKind: number, mAt: number, mStep: number): number {
  let m = -Infinity;
  for (let j = 0, q = mAt; j < end; j++, q += mStep) {
    let v = f[row + j]! * scale;
    if (maskKind === 1) v = f[q] !== 0 ? v : -Infinity;
    else if (maskKind === 2) v += f[q]!;
    f[row + j] = v;
    if (v > m || v !== v) m = v;
  }
  return m;
}

/**
 * Row i of P and dS in place (scores at `row` in C1, dO Vᵀ at `dRow` in C2): P = exp(s - l) and
 * dS = P ∘ (dP - dl) over the visible keys, 0 past them, as kernels/attention-wasm.ts's
 * probabilitiesAndScoreGrad. A row whose l is -inf or NaN (every key masked) is NaN throughout, as
 * the decomposition's, with hidden keys' scores taken as -inf.
 */
function attnGradRow(f: Float32Array, row: number, dRow: number, visible: number, s: number, l: number, dl: number, scale: number, maskKind: number, mAt: number, mStep: number, p2: Float64Array): void {
  attnMaskRow(f, row, visible, scale, maskKind, mAt, mStep);
  const end = l > -Infinity ? visible : s;
  for (let j = 0; j < end; j++) {
    const p = attnExp((j < visible ? f[row + j]! : -Infinity) - l, p2);
    f[row + j] = p;
    f[dRow + j] = p * (f[dRow + j]! - dl);
  }
  f.fill(0, row + end, row + s);
  f.fill(0, dRow + end, dRow + s);
}

/** Heads [start, end) of the op the header at byte `header` describes (kv heads for gradKV), in scratch `thread`. */
export function attentionHeadsTask(x: AttentionExports, buffer: ArrayBufferLike, header: number, start: number, end: number, thread: number): void {
  const I = new Int32Array(buffer, header, 56);
  const scale = new Float64Array(buffer, header + 208, 1)[0]!;
  const f = new Float32Array(buffer);
  const p2 = new Float64Array(581);
  for (let i = 0; i < 581; i++) p2[i] = 2 ** (i - 290);
  const op = I[0]!, H = I[2]!, group = I[3]!, T = I[4]!, S = I[5]!, D = I[6]!, Dv = I[7]!;
  const causal = I[8]! !== 0, maskKind = I[9]!, width = Dv + I[10]!;
  const mr = I[11]!, nr = I[12]!, kc = I[13]!;
  const base = I[14]! + thread * I[15]!;
  const pa = base + I[44]!, pb = base + I[45]!, c1 = base + I[46]!, c2 = base + I[47]!, c3 = base + I[48]!, c4 = base + I[49]!;
  // Each row's max and sum (f32 pairs), then the rows' 1/sum as f32 for attnScaleRows.
  const stats = base + I[50]!, normAt = stats + 8 * T;
  const scaleF32 = header + 216, one = header + 220;
  const hkv = H / group;
  // Row strides (floats) of the score tiles and of the products' results.
  const ldS = Math.ceil(S / nr) * nr;
  const ldD = Math.ceil(D / nr) * nr;
  const ldV = Math.ceil(Dv / nr) * nr;
  // Keys j <= i + skew are visible to query i when causal (bottom-right aligned).
  const skew = S - T;
  const lses = new Float64Array(T);
  // Per query row, the keys its row of P and dS may be nonzero for (all S where its lse is not finite).
  const ext = new Int32Array(T);
  for (let i = 0; i < T; i++) ext[i] = causal ? Math.max(0, Math.min(S, i + skew + 1)) : S;
  // The gradients' windows: ext, widened to all S for the rows whose P and dS are NaN (reset per head).
  const gext = new Int32Array(T);
  const heads = op === 2 ? group : 1;
  for (let u = start; u < end; u++) {
    for (let g = 0; g < heads; g++) {
      // Unit u: head e = (b, h) (forward, gradQ) or kv head (b, hk) and its group's heads (gradKV).
      const e = op === 2 ? Math.floor(u / hkv) * H + (u % hkv) * group + g : u;
      const b = Math.floor(e / H), h = e % H, hk = Math.floor(h / group);
      const qAt = I[16]! + b * I[17]! + h * I[18]!;
      const kAt = I[21]! + b * I[22]! + hk * I[23]!;
      const vAt = I[26]! + b * I[27]! + hk * I[28]!;
      const dAt = I[31]! + b * I[32]! + h * I[33]!;
      const mRow = I[36]! + b * I[37]! + h * I[38]!;
      // S = Q Kᵀ: B is Kᵀ, (p, j) = K[j, p].
      attnProduct(x, pa, pb, c1, T, S, D, 4 * qAt, I[19]!, I[20]!, 4 * kAt, I[25]!, I[24]!, mr, nr, kc, causal, skew);
      const c1f = c1 >> 2, c2f = c2 >> 2, c3f = c3 >> 2, c4f = c4 >> 2;
      if (op === 0) {
        if (maskKind === 0) x.attnSoftmax(c1, ldS, T, S, skew, causal ? 1 : 0, scale, stats);
        for (let i = 0; i < T; i++) {
          let m: number;
          let sum = 0;
          if (maskKind === 0) {
            m = f[(stats >> 2) + 2 * i]!;
            sum = f[(stats >> 2) + 2 * i + 1]!;
          } else {
            const row = c1f + i * ldS;
            // Keys past `visible` are causally hidden: their weight is 0 (no exp needed).
            const visible = ext[i]!;
            m = attnMaskRow(f, row, visible, scale, maskKind, mRow + i * I[39]!, I[40]!);
            for (let j = 0; j < visible; j++) {
              const w = attnExp(f[row + j]! - m, p2);
              f[row + j] = w;
              sum += w;
            }
            f.fill(0, row + visible, row + S);
          }
          // Every key masked (m = -inf) or a NaN/inf score: NaN, as the decomposition's softmax and logsumexp give.
          const bad = !(m > -Infinity) || m === Infinity;
          f[(normAt >> 2) + i] = bad ? NaN : 1 / sum;
          lses[i] = bad ? NaN : m + Math.log(sum);
        }
        // O = P V, each row scaled by its 1/sum on the way out.
        if (causal) attnProductWindowed(x, f, pa, pb, c3, T, Dv, S, c1, ldS, 1, 4 * vAt, I[29]!, I[30]!, mr, nr, kc, ext, true);
        else attnProduct(x, pa, pb, c3, T, Dv, S, c1, ldS, 1, 4 * vAt, I[29]!, I[30]!, mr, nr, kc, false, 0);
        const o = I[43]! + e * T * width;
        x.attnScaleRows(4 * o, width, c3, ldV, T, Dv, normAt, 1, 0);
        if (width > Dv) for (let i = 0; i < T; i++) f[o + i * width + Dv] = lses[i]!;
        continue;
      }
      // dP = dO Vᵀ, then P and dS in place of the scores and dP.
      attnProduct(x, pa, pb, c2, T, S, Dv, 4 * dAt, I[34]!, I[35]!, 4 * vAt, I[30]!, I[29]!, mr, nr, kc, causal, skew);
      const rowStat = b * H * T + h * T;
      const lseAt = I[41]! + rowStat, deltaAt = I[42]! + rowStat;
      if (maskKind === 0) x.attnGrad(c1, c2, ldS, T, S, skew, causal ? 1 : 0, scale, 4 * lseAt, 4 * deltaAt);
      gext.set(ext);
      for (let i = 0; i < T; i++) {
        // attnGrad leaves the rows whose l is -inf or NaN (and every row under a mask) to the JS row.
        const l = f[lseAt + i]!;
        if (maskKind !== 0 || !(l > -Infinity)) attnGradRow(f, c1f + i * ldS, c2f + i * ldS, ext[i]!, S, l, f[deltaAt + i]!, scale, maskKind, mRow + i * I[39]!, I[40]!, p2);
        // Such a row's P and dS are NaN for every key.
        if (!(l > -Infinity)) gext[i] = S;
      }
      if (op === 1) {
        // dQ = scale · dS K.
        if (causal) attnProductWindowed(x, f, pa, pb, c3, T, D, S, c2, ldS, 1, 4 * kAt, I[24]!, I[25]!, mr, nr, kc, gext, true);
        else attnProduct(x, pa, pb, c3, T, D, S, c2, ldS, 1, 4 * kAt, I[24]!, I[25]!, mr, nr, kc, false, 0);
        x.attnScaleRows(4 * (I[43]! + e * T * D), D, c3, ldD, T, D, scaleF32, 0, 0);
        continue;
      }
      // dK = scale · dSᵀ Q and dV = Pᵀ dO, summed over the kv head's group.
      if (causal) {
        attnProductWindowed(x, f, pa, pb, c3, S, D, T, c2, 1, ldS, 4 * qAt, I[19]!, I[20]!, mr, nr, kc, gext, false);
        attnProductWindowed(x, f, pa, pb, c4, S, D, T, c1, 1, ldS, 4 * dAt, I[34]!, I[35]!, mr, nr, kc, gext, false);
      } else {
        attnProduct(x, pa, pb, c3, S, D, T, c2, 1, ldS, 4 * qAt, I[19]!, I[20]!, mr, nr, kc, false, 0);
        attnProduct(x, pa, pb, c4, S, D, T, c1, 1, ldS, 4 * dAt, I[34]!, I[35]!, mr, nr, kc, false, 0);
      }
      const dk = 4 * (I[43]! + u * S * D);
      const dv = dk + 4 * I[1]! * hkv * S * D;
      x.attnScaleRows(dk, D, c3, ldD, S, D, scaleF32, 0, g === 0 ? 0 : 1);
      x.attnScaleRows(dv, D, c4, ldD, S, D, one, 0, g === 0 ? 0 : 1);
    }
  }
}

/** The source text of the task and its helpers, for the workers: defines ATTENTION_TASK. */
export const ATTENTION_TASK_SOURCE = `${[attnProduct, attnProductWindowed, attnExp, attnMaskRow, attnGradRow].map(String).join('\n')}\nconst ATTENTION_TASK = (${String(attentionHeadsTask)});\n`;
