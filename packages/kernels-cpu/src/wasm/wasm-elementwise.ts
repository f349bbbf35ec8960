// f32 add/sub/mul/div on the WebAssembly SIMD elementwise module, for dense operands, a scalar
// operand, or a row vector broadcast over the leading dims. The operands stream through a fixed
// scratch of the module's memory in chunks (64 KiB per operand, so the copies stay in cache):
// copy in, four lanes per instruction, copy out. The SIMD arithmetic alone runs ~10x faster than
// the JavaScript loop; the copies leave ~1.6x (1M-element product, one core). The memory never
// grows, so its views never detach. Main thread only: each call runs to completion synchronously.
import { numel, type Shape, type TensorView } from '@tessera/tensor';
import { dataOf } from '../cpu-kernel.js';
import { takeF32 } from '../f32-array-pool.js';
import { isDenseRowMajor } from '../strided.js';
import { decodeBase64, gemmVariant } from './gemm-module.js';
import { ELEMENTWISE_WASM_BASE64 } from './elementwise-bytes.js';
import { ELEMENTWISE_FMA_WASM_BASE64 } from './elementwise-fma-bytes.js';

/** The binary ops the module implements. */
export type WasmBinaryOp = 'add' | 'sub' | 'mul' | 'div';
/** The unary ops the module implements (in f32, a few ulp from the TypeScript kernels' double-then-round). */
export type WasmUnaryOp = 'exp' | 'tanh' | 'sigmoid' | 'gelu_tanh';

/** Floats per chunk of one operand. */
const CHUNK = 16384;
/** A region holds a chunk plus the vector of padding the last step may touch. */
const REGION = CHUNK + 16;
const A = 0;
const B = REGION;
const D = 2 * REGION;
const ROW = 3 * REGION;
/** The module's regions, in floats: the row kernels (wasm-rows.ts) use W and BIAS for a norm's weight and bias. */
export const REGIONS = { A, B, D, ROW, W: 4 * REGION, BIAS: 5 * REGION, CHUNK } as const;
/** Below this many elements the JavaScript loop wins (call and copy overheads). */
export const WASM_MIN_ELEMENTS = 4096;
/** Row-broadcast rows shorter than this go to the JavaScript loop (a call per row would dominate). */
const MIN_ROW = 64;

type VV = (a: number, b: number, d: number, n: number) => void;
type VS = (a: number, s: number, d: number, n: number) => void;
type SV = (s: number, b: number, d: number, n: number) => void;
interface Engine {
  readonly f32: Float32Array;
  readonly exports: Record<string, VV & VS & SV>;
}

let engine: Engine | null | undefined;
let engineBytes: Uint8Array<ArrayBuffer> | null = null;

/**
 * The build the engine runs: 'fma' (GELU and the softmax exps fuse their multiply-adds) where the gemm
 * runs 'fma' by default (relaxed SIMD validates and TESSERA_GEMM_VARIANT is not simd128), else 'simd128'.
 */
function elementwiseBytes(): Uint8Array<ArrayBuffer> | null {
  if (typeof WebAssembly === 'undefined') return null;
  const candidates = gemmVariant() === 'fma' ? [ELEMENTWISE_FMA_WASM_BASE64, ELEMENTWISE_WASM_BASE64] : [ELEMENTWISE_WASM_BASE64];
  for (const b64 of candidates) {
    const bytes = decodeBase64(b64);
    if (WebAssembly.validate(bytes)) return bytes;
  }
  return null;
}

/** The bytes of the build elementwiseEngine() instantiated (worker threads compile the same), or null without one. */
export function elementwiseEngineBytes(): Uint8Array | null {
  return elementwiseEngine() && engineBytes;
}

/** The instantiated module, or null where WebAssembly SIMD is unavailable. */
export function elementwiseEngine(): Engine | null {
  if (engine !== undefined) return engine;
  try {
    const bytes = elementwiseBytes();
    if (bytes === null) return (engine = null);
    engineBytes = bytes;
    // Six scratch regions and, in a seventh, the module's constant table (its data segment).
    const memory = new WebAssembly.Memory({ initial: Math.ceil((7 * REGION * 4) / 65536) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    engine = { f32: new Float32Array(memory.buffer), exports: instance.exports as unknown as Engine['exports'] };
  } catch {
    engine = null;
  }
  return engine;
}

/** True when `v` (broadcast to `shape`) is `shape`'s elements in row-major order. */
function fills(v: TensorView, shape: Shape, n: number): boolean {
  return numel(v.shape) === n && isDenseRowMajor(v);
}

/** True when `v` is one vector along `shape`'s last dim, broadcast over the others. */
function isRow(v: TensorView, shape: Shape): boolean {
  const c = shape[shape.length - 1]!;
  return v.shape.length > 0 && v.shape[v.shape.length - 1] === c && numel(v.shape) === c && (c === 1 || v.strides[v.strides.length - 1] === 1);
}

/**
 * `a op b` broadcast to `shape` on the SIMD module, or null when the operands are not dense/scalar/row
 * vector f32 arrays the module handles (the caller then runs the JavaScript loop).
 */
export function wasmBinaryF32(op: WasmBinaryOp, a: TensorView, b: TensorView, shape: Shape): Float32Array | null {
  const n = numel(shape);
  if (n < WASM_MIN_ELEMENTS) return null;
  const e = elementwiseEngine();
  if (e === null) return null;
  const x = dataOf(a) as Float32Array;
  const y = dataOf(b) as Float32Array;
  const aFills = fills(a, shape, n);
  const bFills = fills(b, shape, n);
  const f32 = e.f32;
  const fn = e.exports;
  if (aFills && bFills) {
    const dst = takeF32(n);
    chunks(n, (k, len) => {
      f32.set(x.subarray(a.offset + k, a.offset + k + len), A);
      f32.set(y.subarray(b.offset + k, b.offset + k + len), B);
      fn[`${op}_vv`]!(A * 4, B * 4, D * 4, len);
      dst.set(f32.subarray(D, D + len), k);
    });
    return dst;
  }
  if (aFills && numel(b.shape) === 1) {
    const s = y[b.offset]!;
    const dst = takeF32(n);
    chunks(n, (k, len) => {
      f32.set(x.subarray(a.offset + k, a.offset + k + len), A);
      fn[`${op}_vs`]!(A * 4, s, D * 4, len);
      dst.set(f32.subarray(D, D + len), k);
    });
    return dst;
  }
  if (bFills && numel(a.shape) === 1) {
    const s = x[a.offset]!;
    const dst = takeF32(n);
    chunks(n, (k, len) => {
      f32.set(y.subarray(b.offset + k, b.offset + k + len), B);
      fn[`${op}_sv`]!(s, B * 4, D * 4, len);
      dst.set(f32.subarray(D, D + len), k);
    });
    return dst;
  }
  const c = shape[shape.length - 1]!;
  if (aFills && c >= MIN_ROW && c <= CHUNK && isRow(b, shape)) {
    // Row r of the chunk computes ceil(c / 4) vectors; the overrun into row r + 1 is rewritten by it.
    f32.set(y.subarray(b.offset, b.offset + c), ROW);
    const rowsPerChunk = Math.floor(CHUNK / c);
    const dst = takeF32(n);
    const f = fn[`${op}_vv`]!;
    for (let k = 0; k < n; k += rowsPerChunk * c) {
      const len = Math.min(rowsPerChunk * c, n - k);
      f32.set(x.subarray(a.offset + k, a.offset + k + len), A);
      for (let r = 0; r < len; r += c) f((A + r) * 4, ROW * 4, (D + r) * 4, c);
      dst.set(f32.subarray(D, D + len), k);
    }
    return dst;
  }
  return null;
}

/** `op(x)` for a dense f32 `x` of at least WASM_MIN_ELEMENTS elements on the SIMD module, else null (the caller's loop runs). */
export function wasmUnaryF32(op: WasmUnaryOp, x: TensorView, shape: Shape): Float32Array | null {
  const n = numel(shape);
  if (n < WASM_MIN_ELEMENTS || !fills(x, shape, n)) return null;
  const e = elementwiseEngine();
  if (e === null) return null;
  const src = dataOf(x) as Float32Array;
  const f32 = e.f32;
  const fn = e.exports[`${op}_v`] as unknown as (a: number, d: number, n: number) => void;
  const dst = takeF32(n);
  chunks(n, (k, len) => {
    f32.set(src.subarray(x.offset + k, x.offset + k + len), A);
    fn(A * 4, D * 4, len);
    dst.set(f32.subarray(D, D + len), k);
  });
  return dst;
}

/** The AdamW constants, rounded to f32 as the composition rounds them (see src/adamw-update.ts). */
export interface AdamWConstants {
  readonly beta1: number;
  readonly oneMinusBeta1: number;
  readonly beta2: number;
  readonly oneMinusBeta2: number;
  readonly decay: number;
  readonly sqrtBc2: number;
  readonly eps: number;
  readonly stepSize: number;
}

type AdamWFn = (p: number, g: number, m: number, v: number, n: number, ...c: number[]) => void;

/**
 * One AdamW step over `n` dense f32 elements on the SIMD module (bit-identical to the TypeScript loop),
 * written to p2/m2/v2; false where the module is unavailable (the caller's loop runs).
 */
export function wasmAdamwF32(n: number, p: Float32Array, po: number, g: Float32Array, go: number, m: Float32Array, mo: number, v: Float32Array, vo: number, c: AdamWConstants, p2: Float32Array, m2: Float32Array, v2: Float32Array): boolean {
  const e = elementwiseEngine();
  if (e === null) return false;
  const f32 = e.f32;
  const fn = e.exports.adamw as unknown as AdamWFn;
  // In place over four regions: p, g, m, v in; p, m, v out.
  chunks(n, (k, len) => {
    f32.set(p.subarray(po + k, po + k + len), A);
    f32.set(g.subarray(go + k, go + k + len), B);
    f32.set(m.subarray(mo + k, mo + k + len), D);
    f32.set(v.subarray(vo + k, vo + k + len), ROW);
    fn(A * 4, B * 4, D * 4, ROW * 4, len, c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.decay, c.sqrtBc2, c.eps, c.stepSize);
    p2.set(f32.subarray(A, A + len), k);
    m2.set(f32.subarray(D, D + len), k);
    v2.set(f32.subarray(ROW, ROW + len), k);
  });
  return true;
}

/**
 * Σ exp(x[i + t] - m) for t < n on the SIMD module (f32 exp, f64 sum), or null where the module is
 * unavailable. m must be the lane's max (NaN or ±Inf allowed): the exp is only right for x - m <= 0.
 */
export function wasmSumExpF32(x: Float32Array, i: number, n: number, m: number): number | null {
  const e = elementwiseEngine();
  if (e === null) return null;
  const f32 = e.f32;
  const fn = e.exports.sumexp as unknown as (a: number, n: number, m: number) => number;
  let sum = 0;
  chunks(n, (k, len) => {
    f32.set(x.subarray(i + k, i + k + len), A);
    // The lanes past the end of the last vector add exp(-Inf) = 0.
    for (let t = len; t % 4 !== 0; t++) f32[A + t] = -Infinity;
    sum += fn(A * 4, len, m);
  });
  return sum;
}

/** Calls `body` for each run of at most CHUNK elements of n. */
export function chunks(n: number, body: (k: number, len: number) => void): void {
  for (let k = 0; k < n; k += CHUNK) body(k, Math.min(CHUNK, n - k));
}
