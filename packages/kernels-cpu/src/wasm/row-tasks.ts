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

/** A row task; `o` and `f` are Int32Array/Float64Array views of the pool's control block in a worker. */
export type RowTask = (
  d: Float32Array,
  x: Float32Array,
  y: ArrayLike<number>,
  z: ArrayLike<number>,
  o: ArrayLike<number>,
  f: ArrayLike<number>,
  start: number,
  end: number,
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

/** The tasks by id; ids are the indices the pool's workers know them by. */
export const ROW_TASKS: readonly RowTask[] = [geluTanhTask, geluTanhBackwardTask, layerNormTask, layerNormBackwardTask, crossEntropyBackwardTask];

/** Task ids. */
export const TASK = { geluTanh: 0, geluTanhBackward: 1, layerNorm: 2, layerNormBackward: 3, crossEntropyBackward: 4 } as const;
