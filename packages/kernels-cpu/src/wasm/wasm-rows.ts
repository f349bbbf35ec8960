// GELU (tanh form), layerNorm, the cross-entropy losses and their gradients on the WebAssembly SIMD
// elementwise module, on the calling thread, for dense row-major f32 operands: the kernels behind
// kernels/row-tasks-threaded.ts and kernels/softmax-wasm.ts. Operands stream through the module's
// scratch regions (wasm-elementwise.ts) in chunks of at most CHUNK floats, so the copies stay in
// cache. Each function returns false where the module is unavailable (the caller's loop runs then).
//
// Numerics: GELU and the softmax inside the cross-entropy gradient run in f32 with the module's
// polynomial exp (a few ulp from the double-then-round kernels); layerNorm runs in double, two lanes
// at a time (the TypeScript kernel's arithmetic up to the order of its sums); the losses take the
// same lane max and f64 sum of exps as the kernels with the SIMD lane sum, so they are identical.
import { elementwiseEngine, chunks, REGIONS } from './wasm-elementwise.js';

const { A, B, D, W, BIAS, CHUNK } = REGIONS;

type Exports = Record<string, (...args: number[]) => number>;

function exportsOf(): { f32: Float32Array; fn: Exports } | null {
  const e = elementwiseEngine();
  return e && { f32: e.f32, fn: e.exports as unknown as Exports };
}

/** dst[k] = gelu_tanh(x[xo + k]) for k < n. */
export function wasmGeluTanhF32(x: Float32Array, xo: number, n: number, dst: Float32Array): boolean {
  const e = exportsOf();
  if (e === null) return false;
  const { f32, fn } = e;
  chunks(n, (k, len) => {
    f32.set(x.subarray(xo + k, xo + k + len), A);
    fn.gelu_tanh_v!(A * 4, D * 4, len);
    dst.set(f32.subarray(D, D + len), k);
  });
  return true;
}

/** dst[k] = g[go + k] * gelu_tanh'(x[xo + k]) for k < n. */
export function wasmGeluTanhBackwardF32(x: Float32Array, xo: number, g: Float32Array, go: number, n: number, dst: Float32Array): boolean {
  const e = exportsOf();
  if (e === null) return false;
  const { f32, fn } = e;
  chunks(n, (k, len) => {
    f32.set(x.subarray(xo + k, xo + k + len), A);
    f32.set(g.subarray(go + k, go + k + len), B);
    fn.gelu_bwd!(A * 4, B * 4, D * 4, len);
    dst.set(f32.subarray(D, D + len), k);
  });
  return true;
}

/** A dense f32 operand: the array and the element offset where it starts. */
export interface F32Operand {
  readonly data: Float32Array;
  readonly offset: number;
}

/** Copies a norm's n-float weight (or ones) and bias (or -0s: y + -0 is y, signed zeros included) into W and BIAS. */
function setRowOperands(f32: Float32Array, n: number, w: F32Operand | null, b: F32Operand | null): void {
  if (w) f32.set(w.data.subarray(w.offset, w.offset + n), W);
  else f32.fill(1, W, W + n);
  if (b) f32.set(b.data.subarray(b.offset, b.offset + n), BIAS);
  else f32.fill(-0, BIAS, BIAS + n);
}

/** The largest row length the layerNorm kernels take (one row must fit a region). */
export const WASM_ROW_MAX = CHUNK;

/** `rows` rows of layerNorm over n (<= WASM_ROW_MAX) floats each, w and b optional (n floats each). */
export function wasmLayerNormF32(x: F32Operand, w: F32Operand | null, b: F32Operand | null, rows: number, n: number, eps: number, dst: Float32Array): boolean {
  const e = n <= CHUNK ? exportsOf() : null;
  if (e === null) return false;
  const { f32, fn } = e;
  setRowOperands(f32, n, w, b);
  const per = Math.floor(CHUNK / n);
  for (let r = 0; r < rows; r += per) {
    const count = Math.min(per, rows - r);
    const k = r * n;
    f32.set(x.data.subarray(x.offset + k, x.offset + k + count * n), A);
    fn.layernorm!(A * 4, W * 4, BIAS * 4, D * 4, n, count, eps);
    dst.set(f32.subarray(D, D + count * n), k);
  }
  return true;
}

/** `rows` rows of layerNorm's input gradient over n (<= WASM_ROW_MAX) floats each, w optional. */
export function wasmLayerNormBackwardF32(x: F32Operand, dy: F32Operand, w: F32Operand | null, rows: number, n: number, eps: number, dst: Float32Array): boolean {
  const e = n <= CHUNK ? exportsOf() : null;
  if (e === null) return false;
  const { f32, fn } = e;
  setRowOperands(f32, n, w, null);
  const per = Math.floor(CHUNK / n);
  for (let r = 0; r < rows; r += per) {
    const count = Math.min(per, rows - r);
    const k = r * n;
    f32.set(x.data.subarray(x.offset + k, x.offset + k + count * n), A);
    f32.set(dy.data.subarray(dy.offset + k, dy.offset + k + count * n), B);
    fn.layernorm_bwd!(A * 4, B * 4, W * 4, D * 4, n, count, eps);
    dst.set(f32.subarray(D, D + count * n), k);
  }
  return true;
}

/**
 * Copies x[i .. i + len) into region A, padding to a whole number of max_v's 8-float steps with -Inf
 * (e^-Inf adds 0 to a sum and -Inf never wins a max).
 */
function loadPadded(f32: Float32Array, x: Float32Array, i: number, len: number): void {
  f32.set(x.subarray(i, i + len), A);
  for (let t = len; t % 8 !== 0; t++) f32[A + t] = -Infinity;
}

/**
 * The row's max m and Σ e^(x - m) (f32 exps summed in f64, as softmax-wasm.ts's lane sum); with
 * `keep`, a row of at most CHUNK floats leaves its e^(x - m) in region D.
 */
function rowMaxSumExp(f32: Float32Array, fn: Exports, x: Float32Array, i: number, c: number, keep = false): { m: number; sum: number } {
  if (c <= CHUNK) {
    loadPadded(f32, x, i, c);
    const m = fn.max_v!(A * 4, c);
    // With `keep`, e^(x - m) stays in region D for the gradient's scale_sub.
    return { m, sum: keep ? fn.exp_sum!(A * 4, D * 4, c, m) : fn.sumexp!(A * 4, c, m) };
  }
  let m = -Infinity;
  chunks(c, (k, len) => {
    loadPadded(f32, x, i + k, len);
    const cm = fn.max_v!(A * 4, len);
    if (cm > m || cm !== cm) m = cm;
  });
  let sum = 0;
  chunks(c, (k, len) => {
    loadPadded(f32, x, i + k, len);
    sum += fn.sumexp!(A * 4, len, m);
  });
  return { m, sum };
}

/**
 * Cross-entropy losses of `rows` rows of c logits from x[xo]: lse - (1 - s) x[t] - s mean(x), 0 where
 * the target is ignored (target < 0; targets already checked). The same m and sum as the kernel with
 * the SIMD lane sum, so the same losses.
 */
export function wasmCrossEntropyLossesF32(x: Float32Array, xo: number, rows: number, c: number, targets: ArrayLike<number>, s: number, dst: Float32Array): boolean {
  const e = exportsOf();
  if (e === null) return false;
  const { f32, fn } = e;
  for (let r = 0, i = xo; r < rows; r++, i += c) {
    const t = targets[r]!;
    const { m, sum } = rowMaxSumExp(f32, fn, x, i, c);
    const lse = m + Math.log(sum);
    let loss = lse - x[i + Math.max(t, 0)]!;
    if (s > 0) {
      let total = 0;
      for (let j = 0; j < c; j++) total += x[i + j]!;
      loss = loss * (1 - s) + (lse - total / c) * s;
    }
    dst[r] = t < 0 ? loss * 0 : loss;
  }
  return true;
}

/**
 * The cross-entropy logits gradient (softmax(x) - q) * g of `rows` rows of c logits from x[xo], q =
 * (1 - s) onehot(t) + s / c: `targets` holds each row's target (negative: ignored, its gradient is g
 * * 0), `g` each row's incoming gradient. Softmax in f32 on the module; the target's element again
 * in double (it is where the one-hot share cancels most of the softmax).
 */
export function wasmCrossEntropyBackwardF32(x: Float32Array, xo: number, rows: number, c: number, targets: ArrayLike<number>, g: ArrayLike<number>, s: number, dst: Float32Array): boolean {
  const e = exportsOf();
  if (e === null) return false;
  const { f32, fn } = e;
  const off = s / c;
  for (let r = 0, i = xo; r < rows; r++, i += c) {
    const t = targets[r]!;
    const scale = t < 0 ? g[r]! * 0 : g[r]!;
    const safe = Math.max(t, 0);
    const { m, sum } = rowMaxSumExp(f32, fn, x, i, c, true);
    const inv = 1 / sum;
    if (c <= CHUNK) {
      fn.scale_sub!(D * 4, c, inv, off, scale);
      dst.set(f32.subarray(D, D + c), r * c);
    } else {
      chunks(c, (k, len) => {
        f32.set(x.subarray(i + k, i + k + len), A);
        fn.exp_sum!(A * 4, D * 4, len, m);
        fn.scale_sub!(D * 4, len, inv, off, scale);
        dst.set(f32.subarray(D, D + len), r * c + k);
      });
    }
    dst[r * c + safe] = (Math.exp(x[i + safe]! - m) * inv - ((1 - s) + off)) * scale;
  }
  return true;
}
