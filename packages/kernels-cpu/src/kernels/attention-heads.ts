// The f32 attention ops as whole heads per thread (wasm/attention-task.ts): q, k, v and dO are copied
// raw into the gemm engine's shared memory once per call (memcpy speed; their strides are kept, so the
// (B, T, H, D) → (B, H, T, D) permutes are never gathered), lse and delta and the mask beside them,
// then every thread runs whole heads (products, softmax, dS) in its own scratch and the caller copies
// the result out once. Against one threaded batch per product with the softmax and dS loops on the
// calling thread (attention-wasm.ts's chunked path), this took the GPT training step's attention
// (B 8, H 4, T = S 128, D 64, causal; 2 threads) from 8.6 / 10.2 / 12.7 ms a call (forward / gradQ /
// gradKV, medians of 20 rounds alternating in one process, load ~1.7) to 3.8 / 4.9 / 5.6 ms.
// Operands that live in the shared memory's arena (wasm/f32-arena.ts) are read where they are, and
// an arena result receives the output in place: no copy in or out for those.
import type { TensorView, TypedArray } from '@tessera/tensor';
import { dataOf } from '../cpu-kernel.js';
import { recycleF32, resultArray } from '../f32-array-pool.js';
import { broadcastStrides } from '../strided.js';
import { copyStrided } from './copy.js';
import { ATTENTION_HEADER_BYTES } from '../wasm/attention-task.js';
import { SCRATCH_END, arenaBlock } from '../wasm/f32-arena.js';
import type { WasmGemm } from '../wasm/wasm-gemm.js';
import type { AttentionDims, FusedAttentionAttrs } from './attention-rows.js';

/** The header slots (Int32 indices) wasm/attention-task.ts reads; its comment lists them. */
const SLOT = { op: 0, dims: 1, causal: 8, mask: 9, lseColumn: 10, tile: 11, scratch: 14, scratchBytes: 15, q: 16, k: 21, v: 26, dO: 31, maskView: 36, lse: 41, delta: 42, out: 43, parts: 44 } as const;
/** Byte offset of the f64 scale in the header. */
const SCALE_BYTE = 208;
/** The header sits at this byte of the shared memory (address 0 stays unused). */
const HEADER = 64;
/** The most scratch one thread may take (bytes); larger heads go to the chunked path. */
export const MAX_HEAD_SCRATCH = 64 * 2 ** 20;
/** Everything the task's layout may take in the shared memory: the scratch region below the arena. */
const MAX_LAYOUT_BYTES = SCRATCH_END;

/** The ops the task runs, by its op code. */
export type HeadsOp = 0 | 1 | 2;

const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** How a 4-D view (or a broadcast mask) lands in the shared memory: raw span with its own strides, or gathered dense. */
interface Placement {
  readonly view: TensorView;
  /** Strides of the view over (B, H, T|S, D), 0 where it broadcasts. */
  readonly strides: readonly number[];
  readonly shape: readonly number[];
  /** Floats it takes in the shared memory. */
  readonly floats: number;
  /** Copied raw (its element span) rather than gathered. */
  readonly raw: boolean;
  /** Float index of its first element when it is read in place from an arena block (raw, f32), else -1. */
  readonly inPlace: number;
}

/**
 * The element span of a view when its strides are all non-negative and the span is at most twice its
 * elements (a permuted or lightly sliced tensor): one copy at memcpy speed; else a dense gather.
 */
function placement(view: TensorView, shape: readonly number[], strides: readonly number[]): Placement {
  let span = 1;
  let count = 1;
  let negative = false;
  for (let i = 0; i < 4; i++) {
    if (strides[i]! < 0) negative = true;
    else if (strides[i]! > 0) {
      span += (shape[i]! - 1) * strides[i]!;
      count *= shape[i]!;
    }
  }
  // Read in place from an arena block whenever its strides are non-negative (no copy, so no span limit).
  const block = !negative && view.dtype === 'f32' ? arenaBlock(dataOf(view)) : null;
  if (block !== null) return { view, strides, shape, floats: 0, raw: true, inPlace: (block.byte >> 2) + view.offset };
  const raw = !negative && span <= 2 * count;
  return { view, strides, shape, floats: raw ? span : count, raw, inPlace: -1 };
}

/**
 * Copies a placement to float index `at`; returns the strides to read it with there. A gather keeps
 * broadcast dims at stride 0 (they are stored once). copyStrided gathers in runs: a q sliced from a
 * fused (B, T, 3, H, D) qkv in 0.30 ms against 0.59 for a four-deep element loop, a reversed last dim in
 * 0.51 against 0.56 (B 8, H 4, T 128, D 64).
 */
function place(p: Placement, mem: Float32Array, at: number): number[] {
  if (p.inPlace >= 0) return [...p.strides];
  const data: TypedArray = dataOf(p.view);
  const offset = p.view.offset;
  if (p.raw) {
    mem.set(data.subarray(offset, offset + p.floats), at);
    return [...p.strides];
  }
  const shape = p.shape.map((n, i) => (p.strides[i] === 0 ? 1 : n));
  const [, n1, n2, n3] = shape as [number, number, number, number];
  const dense = [n1 * n2 * n3, n2 * n3, n3, 1];
  copyStrided({ storage: p.view.storage, dtype: p.view.dtype, offset, shape, strides: p.strides }, mem, dense, at);
  return dense.map((s, i) => (p.strides[i] === 0 ? 0 : s));
}

/**
 * A (B, H, T) row statistic gathered dense to float `at`. Its own loop rather than copyStrided: lse
 * arrives as attentionForward's last column (stride D + 1), which this loop gathers in 7.0 µs and
 * copyStrided's row walker in 9.0 (B 8, H 4, T 128, D 64; 14 against 7 for a (B, T, H) permute).
 */
function placeRowStat(view: TensorView, dims: AttentionDims, mem: Float32Array, at: number): void {
  const data = dataOf(view);
  const [s0, s1, s2] = view.strides as [number, number, number];
  let d = at;
  for (let b = 0; b < dims.b; b++) for (let h = 0; h < dims.h; h++) for (let i = 0, s = view.offset + b * s0 + h * s1; i < dims.t; i++, s += s2) mem[d++] = data[s]!;
}

/** Floats of each part of one thread's scratch: packed A, packed B, C1, C2 (T×S tiles), C3, C4 (head-sized results), row statistics. */
function scratchParts({ t, s, d, dv }: AttentionDims, mr: number, nr: number): number[] {
  const mrPad = (x: number): number => Math.ceil(x / mr) * mr;
  const nrPad = (x: number): number => Math.ceil(x / nr) * nr;
  const a = Math.max(mrPad(t) * Math.max(d, dv, s), mrPad(s) * t);
  const b = Math.max(nrPad(s) * Math.max(d, dv), nrPad(Math.max(d, dv)) * Math.max(s, t));
  const c = mrPad(t) * nrPad(s);
  const r = Math.max(mrPad(t), mrPad(s)) * nrPad(Math.max(d, dv));
  return [a, b, c, c, r, r, 3 * t];
}

/**
 * Runs op `op` (0 attention/attentionForward, `lseColumn` 1 for the latter's lse column; 1
 * attentionGradQ; 2 attentionGradKV) as whole heads per thread; returns its result array, or null when
 * one thread's scratch or the whole layout would be too large (the caller takes the chunked path).
 * `threaded`: split the heads across the engine's threads. Inputs: q, k, v, then for the gradients dO,
 * lse, delta, and the mask last when `attrs.hasMask`.
 */
export function attentionHeads(engine: WasmGemm, op: HeadsOp, lseColumn: 0 | 1, inputs: readonly TensorView[], attrs: FusedAttentionAttrs, dims: AttentionDims, threaded: boolean): Float32Array | null {
  const { b: B, h: H, hkv: Hkv, t: T, s: S, d: D, dv: Dv, group } = dims;
  const { mr, nr, kc } = engine.tile;
  const parts = scratchParts(dims, mr, nr).map((n) => align(4 * n));
  const scratchBytes = parts.reduce((x, y) => x + y, 0);
  // Without depth the module writes no C at all (the chunked path zeroes it).
  if (scratchBytes > MAX_HEAD_SCRATCH || D === 0 || Dv === 0) return null;
  const grad = op !== 0;
  const [q, k, v] = inputs as [TensorView, TensorView, TensorView];
  const views = [q, k, v, ...(grad ? [inputs[3]!] : [])].map((x) => placement(x, x.shape, x.strides));
  const maskView = attrs.hasMask ? inputs[grad ? 6 : 3]! : null;
  const mask = maskView ? placement(maskView, [B, H, T, S], broadcastStrides(maskView, [B, H, T, S])) : null;
  const outFloats = op === 0 ? B * H * T * (Dv + lseColumn) : op === 1 ? B * H * T * D : 2 * B * Hkv * S * D;
  // Every element of the result is written by the task (or the copy out of its region).
  const dst = resultArray('f32', outFloats) as Float32Array;
  const dstBlock = arenaBlock(dst);
  // Header, the operands, the mask, lse and delta, the result, then each thread's scratch.
  let at = HEADER + ATTENTION_HEADER_BYTES;
  const offsets: number[] = [];
  for (const p of [...views, ...(mask ? [mask] : [])]) {
    offsets.push(at);
    at = align(at + 4 * p.floats);
  }
  const rowStats = grad ? at : 0;
  if (grad) at = align(at + 8 * B * H * T);
  const out = dstBlock !== null ? dstBlock.byte : at;
  if (dstBlock === null) at = align(at + 4 * outFloats);
  const scratch = at;
  // An unthreaded call runs every head on the calling thread, in scratch 0 (WasmGemm.runAttention).
  const bytes = scratch + (threaded ? engine.threads : 1) * scratchBytes;
  if (bytes > MAX_LAYOUT_BYTES) {
    recycleF32(dst);
    return null;
  }
  const mem = engine.sharedF32(bytes);
  const header = new Int32Array(mem.buffer, HEADER, ATTENTION_HEADER_BYTES / 4);
  header.fill(0);
  header[SLOT.op] = op;
  header.set([B, H, group, T, S, D, Dv], SLOT.dims);
  header[SLOT.causal] = attrs.causal ? 1 : 0;
  header[SLOT.mask] = maskView ? (maskView.dtype === 'bool' ? 1 : 2) : 0;
  header[SLOT.lseColumn] = lseColumn;
  header.set([mr, nr, kc], SLOT.tile);
  header[SLOT.scratch] = scratch;
  header[SLOT.scratchBytes] = scratchBytes;
  const slots = [SLOT.q, SLOT.k, SLOT.v, SLOT.dO];
  views.forEach((p, i) => {
    const strides = place(p, mem, offsets[i]! >> 2);
    header.set([p.inPlace >= 0 ? p.inPlace : offsets[i]! >> 2, ...strides], slots[i]!);
  });
  if (mask) header.set([mask.inPlace >= 0 ? mask.inPlace : offsets[views.length]! >> 2, ...place(mask, mem, offsets[views.length]! >> 2)], SLOT.maskView);
  if (grad) {
    placeRowStat(inputs[4]!, dims, mem, rowStats >> 2);
    placeRowStat(inputs[5]!, dims, mem, (rowStats >> 2) + B * H * T);
    header[SLOT.lse] = rowStats >> 2;
    header[SLOT.delta] = (rowStats >> 2) + B * H * T;
  }
  header[SLOT.out] = out >> 2;
  for (let i = 0, o = 0; i < parts.length; o += parts[i]!, i++) header[SLOT.parts + i] = o;
  new Float64Array(mem.buffer, HEADER + SCALE_BYTE, 1)[0] = attrs.scale;
  new Float32Array(mem.buffer, HEADER + SCALE_BYTE + 8, 2).set([attrs.scale, 1]);
  engine.runAttention(HEADER, op === 2 ? B * Hkv : B * H, threaded);
  if (dstBlock === null) dst.set(engine.sharedF32(0).subarray(out >> 2, (out >> 2) + outFloats));
  return dst;
}
