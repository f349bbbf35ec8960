// Row kernels that run on every thread of the gemm worker pool: the tanh-form GELU and its gradient,
// layerNorm and its input gradient, and the cross-entropy logits gradient, for dense row-major f32
// operands. The calling thread runs them on the tensors' own arrays; a worker runs the same function
// (its source text is part of the worker's source) on copies in the shared WebAssembly memory. So each
// function must be self-contained: no imports, no module constants, no nested functions (a bundler
// could rename or wrap them), only its parameters and globals such as Math.
//
// Every task has one signature, (d, x, y, z, o, f, start, end): d the result array, x/y/z operand
// arrays, o the integer arguments (element offsets into d, x, y, z, then the row length), f the float
// arguments, and [start, end) the units (elements or rows) this thread computes. e^t runs as in
// kernels/gelu.ts's fastExp (degree-7 polynomial after a ln2 range reduction, ~5e-9 relative), which
// is ~1.6x cheaper than Math.exp per element; |t| >= 200 and NaN go to Math.exp.

/** The SIMD elementwise module's instance as simdRowsTask uses it: its memory as floats, and its exports. */
export interface RowsEngine {
  readonly f32: Float32Array;
  readonly fn: Record<string, (...args: number[]) => number>;
  /**
   * The calling thread's instance on the agent's shared memory, where d, x, y or z are arena blocks:
   * `at` holds the byte offset of each one's element 0 there (-1: not a block), and `w`/`bias` the bytes
   * of its slot for a norm's weight and bias rows. Those operands are then read and written in place.
   */
  readonly shared?: { readonly fn: RowsEngine['fn']; readonly f32: Float32Array; readonly at: readonly number[]; readonly w: number; readonly bias: number };
}

/**
 * A row task; `o` and `f` are Int32Array/Float64Array views of the pool's control block in a worker.
 * `engine` is passed on the calling thread only (simdRowsTask's instance of the SIMD module).
 */
export type RowTask = (
  d: Float32Array,
  x: Float32Array,
  y: Float32Array,
  z: Float32Array,
  o: ArrayLike<number>,
  f: ArrayLike<number>,
  start: number,
  end: number,
  engine?: RowsEngine,
) => void;

/** Argument slots of `o`. */
export const ARG = { d: 0, x: 1, y: 2, z: 3, n: 4 } as const;

/** d[e] = gelu_tanh(x[e]) for elements [start, end). */
function geluTanhTask(d: Float32Array, x: Float32Array, _y: ArrayLike<number>, _z: ArrayLike<number>, o: ArrayLike<number>, _f: ArrayLike<number>, start: number, end: number): void {
  const P = new Float64Array(581);
  for (let i = 0; i < 581; i++) P[i] = 2 ** (i - 290);
  for (let e = start, p = o[0]! + start, q = o[1]! + start; e < end; e++, p++, q++) {
    const v = x[q]!;
    const t = -1.5957691216057308 * v * (1 + 0.044715 * v * v);
    let ex: number;
    if (t > -200 && t < 200) {
      const k = t * Math.LOG2E + 6755399441055744 - 6755399441055744;
      const r = t - k * 0.6931471803691238 - k * 1.9082149292705877e-10;
      ex = (1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))))) * P[(k | 0) + 290]!;
    } else ex = Math.exp(t);
    d[p] = v / (1 + ex);
  }
}

/** d[e] = g[e] * gelu_tanh'(x[e]) for elements [start, end); g is y. */
function geluTanhBackwardTask(d: Float32Array, x: Float32Array, g: ArrayLike<number>, _z: ArrayLike<number>, o: ArrayLike<number>, _f: ArrayLike<number>, start: number, end: number): void {
  const P = new Float64Array(581);
  for (let i = 0; i < 581; i++) P[i] = 2 ** (i - 290);
  for (let e = start, p = o[0]! + start, q = o[1]! + start, j = o[2]! + start; e < end; e++, p++, q++, j++) {
    const v = x[q]!;
    const v2 = v * v;
    const t = -1.5957691216057308 * v * (1 + 0.044715 * v2);
    let ex: number;
    if (t > -200 && t < 200) {
      const k = t * Math.LOG2E + 6755399441055744 - 6755399441055744;
      const r = t - k * 0.6931471803691238 - k * 1.9082149292705877e-10;
      ex = (1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))))) * P[(k | 0) + 290]!;
    } else ex = Math.exp(t);
    const s = 1 / (1 + ex);
    d[p] = g[j]! * (s + 2 * v * s * (1 - s) * 0.7978845608028654 * (1 + 3 * 0.044715 * v2));
  }
}

/** Rows [start, end) of layerNorm: (x - mean) * rstd * w + b; w is y, b is z (offset -1: absent); f[0] = eps. */
function layerNormTask(d: Float32Array, x: Float32Array, w: ArrayLike<number>, b: ArrayLike<number>, o: ArrayLike<number>, f: ArrayLike<number>, start: number, end: number): void {
  const n = o[4]!;
  const wo = o[2]!;
  const bo = o[3]!;
  const eps = f[0]!;
  for (let row = start; row < end; row++) {
    const xs = o[1]! + row * n;
    const ds = o[0]! + row * n;
    let sum = 0;
    for (let t = 0; t < n; t++) sum += x[xs + t]!;
    const mean = sum / n;
    let sq = 0;
    for (let t = 0; t < n; t++) {
      const c = x[xs + t]! - mean;
      sq += c * c;
    }
    const rstd = 1 / Math.sqrt(sq / n + eps);
    if (wo >= 0 && bo >= 0) for (let t = 0; t < n; t++) d[ds + t] = (x[xs + t]! - mean) * rstd * w[wo + t]! + b[bo + t]!;
    else if (wo >= 0) for (let t = 0; t < n; t++) d[ds + t] = (x[xs + t]! - mean) * rstd * w[wo + t]!;
    else if (bo >= 0) for (let t = 0; t < n; t++) d[ds + t] = (x[xs + t]! - mean) * rstd + b[bo + t]!;
    else for (let t = 0; t < n; t++) d[ds + t] = (x[xs + t]! - mean) * rstd;
  }
}

/** Rows [start, end) of layerNorm's input gradient; dy is y, w is z (offset -1: absent); f[0] = eps. */
function layerNormBackwardTask(d: Float32Array, x: Float32Array, dy: ArrayLike<number>, w: ArrayLike<number>, o: ArrayLike<number>, f: ArrayLike<number>, start: number, end: number): void {
  const n = o[4]!;
  const wo = o[3]!;
  const eps = f[0]!;
  for (let row = start; row < end; row++) {
    const xs = o[1]! + row * n;
    const gs = o[2]! + row * n;
    const ds = o[0]! + row * n;
    let sum = 0;
    for (let t = 0; t < n; t++) sum += x[xs + t]!;
    const mean = sum / n;
    let sq = 0;
    for (let t = 0; t < n; t++) {
      const c = x[xs + t]! - mean;
      sq += c * c;
    }
    const rstd = 1 / Math.sqrt(sq / n + eps);
    let gSum = 0;
    let gxSum = 0;
    for (let t = 0; t < n; t++) {
      const g = wo >= 0 ? dy[gs + t]! * w[wo + t]! : dy[gs + t]!;
      gSum += g;
      gxSum += g * (x[xs + t]! - mean) * rstd;
    }
    const gMean = gSum / n;
    const gxMean = gxSum / n;
    for (let t = 0; t < n; t++) {
      const g = wo >= 0 ? dy[gs + t]! * w[wo + t]! : dy[gs + t]!;
      d[ds + t] = rstd * (g - gMean - (x[xs + t]! - mean) * rstd * gxMean);
    }
  }
}

/**
 * Rows [start, end) of the cross-entropy logits gradient (softmax(x) - q) * g, q = (1 - s) onehot(t)
 * + s / C: y holds each row's target (already checked; negative: ignored), z each row's g (one per
 * row, from o[2] and o[3]); o[4] = C; f[0] = s. An ignored row's gradient is g * 0 (NaN stays NaN).
 */
function crossEntropyBackwardTask(d: Float32Array, x: Float32Array, tg: ArrayLike<number>, gr: ArrayLike<number>, o: ArrayLike<number>, f: ArrayLike<number>, start: number, end: number): void {
  const P = new Float64Array(581);
  for (let i = 0; i < 581; i++) P[i] = 2 ** (i - 290);
  const c = o[4]!;
  const s = f[0]!;
  const off = s / c;
  for (let row = start; row < end; row++) {
    const xs = o[1]! + row * c;
    const ds = o[0]! + row * c;
    const t = tg[o[2]! + row]!;
    const scale = t < 0 ? gr[o[3]! + row]! * 0 : gr[o[3]! + row]!;
    const safe = t < 0 ? 0 : t;
    let m = -Infinity;
    for (let j = 0; j < c; j++) {
      const v = x[xs + j]!;
      if (v > m || v !== v) m = v;
    }
    // e^(x - m) once per element, kept in d (f32) between the sum and the scaling pass.
    let sum = 0;
    for (let j = 0; j < c; j++) {
      const u = x[xs + j]! - m;
      let ex: number;
      if (u > -200 && u < 200) {
        const k = u * Math.LOG2E + 6755399441055744 - 6755399441055744;
        const r = u - k * 0.6931471803691238 - k * 1.9082149292705877e-10;
        ex = (1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))))) * P[(k | 0) + 290]!;
      } else ex = Math.exp(u);
      d[ds + j] = ex;
      sum += ex;
    }
    const inv = 1 / sum;
    for (let j = 0; j < c; j++) d[ds + j] = (d[ds + j]! * inv - ((j === safe ? 1 - s : 0) + off)) * scale;
  }
}

/** simdRowsTask's kinds (o[5]). */
export const SIMD_KIND = { geluTanh: 0, geluTanhBackward: 1, layerNorm: 2, layerNormBackward: 3, crossEntropyBackward: 4, crossEntropyLosses: 5, rmsNorm: 6, rmsNormBackward: 7 } as const;
/** The SIMD module's scratch layout as simdRowsTask hardcodes it (floats; a test holds it to wasm-elementwise.ts's REGIONS). */
export const SIMD_TASK_LAYOUT = { CHUNK: 16384, REGION: 16400 } as const;

/**
 * The row kernels on the WebAssembly SIMD elementwise module (wasm/elementwise-wat.ts), kind o[5]
 * (SIMD_KIND): GELU tanh form and its gradient over elements; layerNorm (y: weight, z: bias) and its
 * input gradient (y: dy, z: weight) over rows of o[4] (<= 16384) floats, f[0] = eps, offset -1 for an
 * absent weight or bias; rmsNorm (kind 6, y: weight) and its input gradient (kind 7, y: dy, z: weight)
 * likewise, bit for bit kernels/rms-norm.ts; cross-entropy gradient (y: targets, negative when ignored; z: each row's g;
 * o[0] indexes c floats a row) and losses (y: targets; d: one float a row) over rows of c = o[4]
 * logits, f[0] = label smoothing. The calling thread passes its instance as `engine`; a worker
 * compiles its own, with a private memory, from the module bytes the caller put at float o[6] (o[7]
 * bytes) of the shared memory, and keeps it on globalThis. Operands stream through the instance's
 * scratch in chunks of 16384 floats (the copies stay in cache). The arithmetic is described in
 * wasm/elementwise-wat.ts; the target's element of the gradient is recomputed in double here.
 */
function simdRowsTask(d: Float32Array, x: Float32Array, y: Float32Array, z: Float32Array, o: ArrayLike<number>, f: ArrayLike<number>, start: number, end: number, engine?: RowsEngine): void {
  let k: RowsEngine | undefined = engine;
  if (k === undefined) {
    const g = globalThis as { __tesseraRowsSimd?: { engine: RowsEngine; key: number } };
    let own = g.__tesseraRowsSimd;
    if (own === undefined || own.key !== o[7]!) {
      const bytes = new Uint8Array(x.buffer, x.byteOffset + o[6]! * 4, o[7]!).slice();
      const memory = new WebAssembly.Memory({ initial: Math.ceil((7 * 16400 * 4) / 65536) });
      const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
      own = g.__tesseraRowsSimd = { engine: { f32: new Float32Array(memory.buffer), fn: exports as unknown as RowsEngine['fn'] }, key: o[7]! };
    }
    k = own.engine;
  }
  const m = k.f32;
  const fn = k.fn;
  const CHUNK = 16384;
  const A = 0;
  const B = 16400;
  const D = 2 * 16400;
  const W = 4 * 16400;
  const BIAS = 5 * 16400;
  const kind = o[5]!;
  const n = o[4]!;
  // The calling thread's in-place instance (engine.shared): whole vectors straight from and into the
  // arena blocks, the last 0-3 elements through the copies below (the same build: the same bits).
  const sh = engine === undefined ? undefined : engine.shared;
  if (kind === 0 || kind === 1) {
    if (sh !== undefined && sh.at[0]! >= 0 && sh.at[1]! >= 0 && (kind === 0 || sh.at[2]! >= 0)) {
      const len4 = (end - start) & ~3;
      const xa = sh.at[1]! + 4 * (o[1]! + start);
      const da = sh.at[0]! + 4 * (o[0]! + start);
      if (kind === 0) sh.fn.gelu_tanh_v!(xa, da, len4);
      else sh.fn.gelu_bwd!(xa, sh.at[2]! + 4 * (o[2]! + start), da, len4);
      start += len4;
    }
    for (let e = start; e < end; e += CHUNK) {
      const len = Math.min(CHUNK, end - e);
      m.set(x.subarray(o[1]! + e, o[1]! + e + len), A);
      if (kind === 0) fn.gelu_tanh_v!(A * 4, D * 4, len);
      else {
        m.set(y.subarray(o[2]! + e, o[2]! + e + len), B);
        fn.gelu_bwd!(A * 4, B * 4, D * 4, len);
      }
      d.set(m.subarray(D, D + len), o[0]! + e);
    }
    return;
  }
  if (kind === 2 || kind === 3 || kind === 6 || kind === 7) {
    // An absent weight is ones and an absent bias -0s: y * 1 and y + -0 are y, signed zeros included.
    const fwd = kind === 2 || kind === 6;
    const back = kind === 3 ? 'layernorm_bwd' : 'rmsnorm_bwd';
    const wo = fwd ? o[2]! : o[3]!;
    // The weight row (and layerNorm's bias row) at floats `w` (`b`) of `mem`.
    const weights = (mem: Float32Array, w: number, b: number): void => {
      if (wo >= 0) mem.set((fwd ? y : z).subarray(wo, wo + n), w);
      else mem.fill(1, w, w + n);
      if (kind === 2 && o[3]! >= 0) mem.set(z.subarray(o[3]!, o[3]! + n), b);
      else if (kind === 2) mem.fill(-0, b, b + n);
    };
    if (sh !== undefined && sh.at[0]! >= 0 && sh.at[1]! >= 0 && (fwd || sh.at[2]! >= 0)) {
      // Rows need no padding (the module finishes each row's last 0-3 floats in scalar code).
      weights(sh.f32, sh.w / 4, sh.bias / 4);
      const xa = sh.at[1]! + 4 * (o[1]! + start * n);
      const da = sh.at[0]! + 4 * (o[0]! + start * n);
      if (kind === 2) sh.fn.layernorm!(xa, sh.w, sh.bias, da, n, end - start, f[0]!);
      else if (fwd) sh.fn.rmsnorm!(xa, sh.w, da, n, end - start, f[0]!);
      else sh.fn[back]!(xa, sh.at[2]! + 4 * (o[2]! + start * n), sh.w, da, n, end - start, f[0]!);
      return;
    }
    weights(m, W, BIAS);
    const per = Math.floor(CHUNK / n);
    for (let r = start; r < end; r += per) {
      const count = Math.min(per, end - r);
      const at = r * n;
      const len = count * n;
      m.set(x.subarray(o[1]! + at, o[1]! + at + len), A);
      if (kind === 2) fn.layernorm!(A * 4, W * 4, BIAS * 4, D * 4, n, count, f[0]!);
      else if (fwd) fn.rmsnorm!(A * 4, W * 4, D * 4, n, count, f[0]!);
      else {
        m.set(y.subarray(o[2]! + at, o[2]! + at + len), B);
        fn[back]!(A * 4, B * 4, W * 4, D * 4, n, count, f[0]!);
      }
      d.set(m.subarray(D, D + len), o[0]! + at);
    }
    return;
  }
  const c = n;
  const s = f[0]!;
  const off = s / c;
  // In place: rows of whole 8-float steps (max_v reads 8 floats a step; other rows are padded with -Inf
  // in the copies), logits a block, and for the gradient the result a block.
  const direct = sh !== undefined && c % 8 === 0 && c <= CHUNK && sh.at[1]! >= 0 && (kind === 5 || sh.at[0]! >= 0);
  for (let r = start; r < end; r++) {
    const i = o[1]! + r * c;
    const t = y[o[2]! + r]!;
    const safe = t < 0 ? 0 : t;
    // The row's max and sum of e^(x - max), f32 exps summed in f64; rows are padded with -Inf to
    // max_v's 8-float steps. A row that fits one chunk keeps its e^(x - max) in D for the gradient.
    let mx = -Infinity;
    let sum = 0;
    if (direct) {
      const xa = sh.at[1]! + 4 * i;
      mx = sh.fn.max_v!(xa, c);
      sum = kind === 4 ? sh.fn.exp_sum!(xa, sh.at[0]! + 4 * (o[0]! + r * c), c, mx) : sh.fn.sumexp!(xa, c, mx);
    } else if (c <= CHUNK) {
      m.set(x.subarray(i, i + c), A);
      for (let q = c; q % 8 !== 0; q++) m[A + q] = -Infinity;
      mx = fn.max_v!(A * 4, c);
      sum = kind === 4 ? fn.exp_sum!(A * 4, D * 4, c, mx) : fn.sumexp!(A * 4, c, mx);
    } else {
      for (let q = 0; q < c; q += CHUNK) {
        const len = Math.min(CHUNK, c - q);
        m.set(x.subarray(i + q, i + q + len), A);
        for (let u = len; u % 8 !== 0; u++) m[A + u] = -Infinity;
        const cm = fn.max_v!(A * 4, len);
        if (cm > mx || cm !== cm) mx = cm;
      }
      for (let q = 0; q < c; q += CHUNK) {
        const len = Math.min(CHUNK, c - q);
        m.set(x.subarray(i + q, i + q + len), A);
        for (let u = len; u % 8 !== 0; u++) m[A + u] = -Infinity;
        sum += fn.sumexp!(A * 4, len, mx);
      }
    }
    if (kind === 5) {
      const lse = mx + Math.log(sum);
      let loss = lse - x[i + safe]!;
      if (s > 0) {
        let total = 0;
        for (let j = 0; j < c; j++) total += x[i + j]!;
        loss = loss * (1 - s) + (lse - total / c) * s;
      }
      // An ignored row's loss is loss * 0, as the decomposition's (NaN stays NaN).
      d[o[0]! + r] = t < 0 ? loss * 0 : loss;
      continue;
    }
    const gr = z[o[3]! + r]!;
    const scale = t < 0 ? gr * 0 : gr;
    const inv = 1 / sum;
    const ds = o[0]! + r * c;
    if (direct) sh.fn.scale_sub!(sh.at[0]! + 4 * ds, c, inv, off, scale);
    else if (c <= CHUNK) {
      fn.scale_sub!(D * 4, c, inv, off, scale);
      d.set(m.subarray(D, D + c), ds);
    } else {
      for (let q = 0; q < c; q += CHUNK) {
        const len = Math.min(CHUNK, c - q);
        m.set(x.subarray(i + q, i + q + len), A);
        fn.exp_sum!(A * 4, D * 4, len, mx);
        fn.scale_sub!(D * 4, len, inv, off, scale);
        d.set(m.subarray(D, D + len), ds + q);
      }
    }
    // The target's element, where the one-hot share cancels most of the softmax, in double.
    d[ds + safe] = (Math.exp(x[i + safe]! - mx) * inv - (1 - s + off)) * scale;
  }
}

/** The tasks by id; ids are the indices the pool's workers know them by. */
export const ROW_TASKS: readonly RowTask[] = [geluTanhTask, geluTanhBackwardTask, layerNormTask, layerNormBackwardTask, crossEntropyBackwardTask, simdRowsTask];

/** Task ids. */
export const TASK = { geluTanh: 0, geluTanhBackward: 1, layerNorm: 2, layerNormBackward: 3, crossEntropyBackward: 4, simdRows: 5 } as const;
