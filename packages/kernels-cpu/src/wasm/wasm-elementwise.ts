// f32 add/sub/mul/div on the WebAssembly SIMD elementwise module, for dense operands, a scalar
// operand, or a row vector broadcast over the leading dims. The operands stream through a fixed
// scratch of the module's memory in chunks (64 KiB per operand, so the copies stay in cache):
// copy in, four lanes per instruction, copy out. The SIMD arithmetic alone runs ~10x faster than
// the JavaScript loop; the copies leave ~1.6x (1M-element product, one core). The memory never
// grows, so its views never detach. Main thread only: each call runs to completion synchronously.
//
// Where the operands and the result are blocks of the f32 arena (f32-arena.ts: large results live in
// the agent's shared WebAssembly memory, the common case in a training step), a second instance of the
// module, built on that shared memory, reads and writes them where they are: no copies at all (copying
// out of a SharedArrayBuffer-backed array costs ~1.8x a plain one's). Its functions run whole vectors
// (n rounded down to a multiple of 4: past a block's end lie other blocks), the last 0-3 elements in
// JavaScript, which rounds + - * / and sqrt of f32 values exactly as f32 arithmetic does.
import { numel, type Shape, type TensorView } from '@tessera/tensor';
import { dataOf } from '../cpu-kernel.js';
import { takeF32 } from '../f32-array-pool.js';
import { isDenseRowMajor } from '../strided.js';
import { decodeBase64, gemmVariant } from './gemm-module.js';
import { ELEMENTWISE_WASM_BASE64 } from './elementwise-bytes.js';
import { ELEMENTWISE_FMA_WASM_BASE64 } from './elementwise-fma-bytes.js';
import { ELEMENTWISE_SHARED_WASM_BASE64 } from './elementwise-shared-bytes.js';
import { ELEMENTWISE_SHARED_FMA_WASM_BASE64 } from './elementwise-shared-fma-bytes.js';
import { ARENA_BASE, agentMemory, arenaBlock } from './f32-arena.js';

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
/** The module's regions, in floats: the row kernels (row-tasks.ts's simdRowsTask) use W and BIAS for a norm's weight and bias. */
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
/** The build the engine runs: index into BUILDS. */
let engineBuild = 0;

/** The builds, fastest first: each on a private memory and on the agent's shared memory. */
const BUILDS = [
  { variant: 'fma', own: ELEMENTWISE_FMA_WASM_BASE64, shared: ELEMENTWISE_SHARED_FMA_WASM_BASE64 },
  { variant: 'simd128', own: ELEMENTWISE_WASM_BASE64, shared: ELEMENTWISE_SHARED_WASM_BASE64 },
] as const;

/**
 * The build the engine runs: 'fma' (GELU and the softmax exps fuse their multiply-adds) where the gemm
 * runs 'fma' by default (relaxed SIMD validates and TESSERA_GEMM_VARIANT is not simd128), else 'simd128'.
 */
function elementwiseBytes(): Uint8Array<ArrayBuffer> | null {
  if (typeof WebAssembly === 'undefined') return null;
  for (let i = gemmVariant() === 'fma' ? 0 : 1; i < BUILDS.length; i++) {
    const bytes = decodeBase64(BUILDS[i]!.own);
    engineBuild = i;
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

let shared: Engine['exports'] | null | undefined;
let inPlace = true;
let inPlaceCalls = 0;

/** How many calls ran in place on the shared instance so far (tests check the path is taken). */
export function inPlaceRuns(): number {
  return inPlaceCalls;
}

/**
 * Turns the in-place instance off or on (for A/B measurements and the tests that hold it to the copying
 * path); off, every call copies through the private memory as before.
 */
export function configureInPlace(opts: { readonly enabled: boolean }): void {
  inPlace = opts.enabled;
}

/**
 * The instance on the agent's shared memory (the same build as the engine's), or null. Only asked for
 * once an arena block exists, so the memory already reaches past ARENA_BASE, where the instance's
 * constant table sits (just below it: f32-arena.ts's SCRATCH_END); it grows it there otherwise.
 */
function sharedEngine(): Engine['exports'] | null {
  if (shared !== undefined) return shared;
  try {
    if (elementwiseEngine() === null) return (shared = null);
    const memory = agentMemory();
    const have = memory.buffer.byteLength;
    if (have < ARENA_BASE) memory.grow((ARENA_BASE - have) / 65536);
    const bytes = decodeBase64(BUILDS[engineBuild]!.shared);
    shared = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Engine['exports'];
  } catch {
    shared = null;
  }
  return shared;
}

/**
 * The shared instance's exports and the agent memory as floats (a fresh view: the memory may have
 * grown), or null where in-place calls are off or unavailable. For the row kernels' calling thread.
 */
export function sharedElementwise(): { readonly fn: Engine['exports']; readonly f32: Float32Array } | null {
  const fn = inPlace ? sharedEngine() : null;
  if (fn !== null) sharedRowCalls++;
  return fn && { fn, f32: new Float32Array(agentMemory().buffer) };
}

let sharedRowCalls = 0;
/** How many row-kernel jobs got the in-place instance for the calling thread's share so far (tests check the path is taken). */
export function inPlaceRowRuns(): number {
  return sharedRowCalls;
}

/** Byte offset of `data[offset]` in the shared memory when `data` is an arena block and in-place calls are on, else -1. */
function sharedByte(data: Float32Array, offset: number): number {
  if (!inPlace) return -1;
  const block = arenaBlock(data);
  return block === null ? -1 : block.byte + 4 * offset;
}

/** The scalar op, for the last elements of an in-place run (f32 operands in double, rounded once on store: the f32 op). */
const SCALAR: Record<WasmBinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

/**
 * `a op b` in place on the shared instance when x, y (where read) and dst are arena blocks, else
 * false. `pattern`: both full, b a scalar, a a scalar, or b a row of `c` floats (any array: it is
 * copied to the start of the scratch region unless it is a block).
 */
function binaryInPlace(op: WasmBinaryOp, pattern: 'vv' | 'vs' | 'sv' | 'row', x: Float32Array, xo: number, y: Float32Array, yo: number, dst: Float32Array, n: number, c: number): boolean {
  const db = sharedByte(dst, 0);
  if (db < 0) return false;
  const xb = pattern === 'sv' ? 0 : sharedByte(x, xo);
  const yb = pattern === 'vs' ? 0 : pattern === 'row' ? Math.max(sharedByte(y, yo), 64) : sharedByte(y, yo);
  if (xb < 0 || yb < 0) return false;
  const fn = sharedEngine();
  if (fn === null) return false;
  const f = SCALAR[op];
  inPlaceCalls++;
  if (pattern === 'row') {
    const memory = agentMemory();
    if (yb === 64) new Float32Array(memory.buffer, 64, c).set(y.subarray(yo, yo + c));
    const c4 = c & ~3;
    const vv = fn[`${op}_vv`]!;
    for (let r = 0; r < n; r += c) {
      vv(xb + 4 * r, yb, db + 4 * r, c4);
      for (let t = c4; t < c; t++) dst[r + t] = f(x[xo + r + t]!, y[yo + t]!);
    }
    return true;
  }
  const n4 = n & ~3;
  if (pattern === 'vv') {
    fn[`${op}_vv`]!(xb, yb, db, n4);
    for (let i = n4; i < n; i++) dst[i] = f(x[xo + i]!, y[yo + i]!);
  } else if (pattern === 'vs') {
    const s = y[yo]!;
    fn[`${op}_vs`]!(xb, s, db, n4);
    for (let i = n4; i < n; i++) dst[i] = f(x[xo + i]!, s);
  } else {
    const s = x[xo]!;
    fn[`${op}_sv`]!(s, yb, db, n4);
    for (let i = n4; i < n; i++) dst[i] = f(s, y[yo + i]!);
  }
  return true;
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
    if (binaryInPlace(op, 'vv', x, a.offset, y, b.offset, dst, n, 0)) return dst;
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
    if (binaryInPlace(op, 'vs', x, a.offset, y, b.offset, dst, n, 0)) return dst;
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
    if (binaryInPlace(op, 'sv', x, a.offset, y, b.offset, dst, n, 0)) return dst;
    chunks(n, (k, len) => {
      f32.set(y.subarray(b.offset + k, b.offset + k + len), B);
      fn[`${op}_sv`]!(s, B * 4, D * 4, len);
      dst.set(f32.subarray(D, D + len), k);
    });
    return dst;
  }
  const c = shape[shape.length - 1]!;
  if (aFills && c >= MIN_ROW && c <= CHUNK && isRow(b, shape)) {
    const dst = takeF32(n);
    if (binaryInPlace(op, 'row', x, a.offset, y, b.offset, dst, n, c)) return dst;
    // Row r of the chunk computes ceil(c / 4) vectors; the overrun into row r + 1 is rewritten by it.
    f32.set(y.subarray(b.offset, b.offset + c), ROW);
    const rowsPerChunk = Math.floor(CHUNK / c);
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

let unaryCalls = 0;
/** How many unary ops ran on the module so far (tests check the path is taken). */
export const wasmUnaryRuns = (): number => unaryCalls;

/** `op(x)` for a dense f32 `x` of at least WASM_MIN_ELEMENTS elements on the SIMD module, else null (the caller's loop runs). */
export function wasmUnaryF32(op: WasmUnaryOp, x: TensorView, shape: Shape): Float32Array | null {
  const n = numel(shape);
  if (n < WASM_MIN_ELEMENTS || !fills(x, shape, n)) return null;
  const e = elementwiseEngine();
  if (e === null) return null;
  unaryCalls++;
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

type AdamWFn = (p: number, g: number, m: number, v: number, dp: number, dm: number, dv: number, n: number, ...c: number[]) => void;

/**
 * One AdamW step over the first elements of `n` dense f32 ones on the SIMD module (bit-identical to the
 * TypeScript loop), written to p2/m2/v2 from element 0. Returns how many it wrote: n, or n rounded down
 * to a multiple of 4 when all seven arrays are arena blocks (in place on the shared instance), or 0
 * where the module is unavailable; the caller's loop writes the rest.
 */
export function wasmAdamwF32(n: number, p: Float32Array, po: number, g: Float32Array, go: number, m: Float32Array, mo: number, v: Float32Array, vo: number, c: AdamWConstants, p2: Float32Array, m2: Float32Array, v2: Float32Array): number {
  const e = elementwiseEngine();
  if (e === null) return 0;
  const args = [c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.decay, c.sqrtBc2, c.eps, c.stepSize] as const;
  const at = [sharedByte(p, po), sharedByte(g, go), sharedByte(m, mo), sharedByte(v, vo), sharedByte(p2, 0), sharedByte(m2, 0), sharedByte(v2, 0)] as const;
  const inPlaceFn = at.every((b) => b >= 0) ? sharedEngine() : null;
  if (inPlaceFn !== null) {
    const n4 = n & ~3;
    inPlaceCalls++;
    (inPlaceFn.adamw as unknown as AdamWFn)(...at, n4, ...args);
    return n4;
  }
  const f32 = e.f32;
  const fn = e.exports.adamw as unknown as AdamWFn;
  // In place over four regions: p, g, m, v in; p, m, v out.
  chunks(n, (k, len) => {
    f32.set(p.subarray(po + k, po + k + len), A);
    f32.set(g.subarray(go + k, go + k + len), B);
    f32.set(m.subarray(mo + k, mo + k + len), D);
    f32.set(v.subarray(vo + k, vo + k + len), ROW);
    fn(A * 4, B * 4, D * 4, ROW * 4, A * 4, D * 4, ROW * 4, len, ...args);
    p2.set(f32.subarray(A, A + len), k);
    m2.set(f32.subarray(D, D + len), k);
    v2.set(f32.subarray(ROW, ROW + len), k);
  });
  return n;
}

let sumExpCalls = 0;
/** How many lane sums of exp ran on the module so far (tests check the path is taken). */
export const wasmSumExpRuns = (): number => sumExpCalls;

/**
 * Σ exp(x[i + t] - m) for t < n on the SIMD module (f32 exp, f64 sum), or null where the module is
 * unavailable. m must be the lane's max (NaN or ±Inf allowed): the exp is only right for x - m <= 0.
 */
export function wasmSumExpF32(x: Float32Array, i: number, n: number, m: number): number | null {
  const e = elementwiseEngine();
  if (e === null) return null;
  sumExpCalls++;
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
