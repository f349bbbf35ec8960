// Binding windows. A buffer may be larger than one binding may be (maxStorageBufferBindingSize, or the
// smaller Tessera-side `bindingLimitBytes`): an embedding table of 32000 × 4096 f32 is 524 MB, a
// binding 128 MiB. Kernels that split their work bind only the part of each buffer one piece of work
// touches, as a window (GPUBufferBinding offset + size, the offset aligned down to
// minStorageBufferOffsetAlignment), and subtract the window's first word from their indices: input
// windows by lowering the operand's offset parameter, output windows through a shift word. This file
// holds the arithmetic: which elements a strided view touches over a box or a flat range of its
// iteration, the window holding them, and plans that cut an iteration into pieces whose windows fit.
import type { DType, Shape, TensorView } from '@tessera/tensor';
import { elementsPerWord } from './wgsl/dtype-io.js';

/** Part of a buffer bound to one binding. */
export interface BufferWindow {
  readonly buffer: GPUBuffer;
  /** Byte offset, a multiple of minStorageBufferOffsetAlignment. */
  readonly offset: number;
  readonly size: number;
}

/** What a dispatch binds: a whole buffer or a window of one. */
export type Binding = GPUBuffer | BufferWindow;

/** The limits windows are cut to. */
export interface WindowLimits {
  /** Largest binding in bytes (the device's maxStorageBufferBindingSize or the lower bindingLimitBytes). */
  readonly maxBindingBytes: number;
  /** minStorageBufferOffsetAlignment of the device. */
  readonly offsetAlignment: number;
}

/** Raised when an operand cannot be bound within the binding limit; names the op, the operand, the sizes and the fix. */
export class BindingLimitError extends RangeError {
  override readonly name = 'BindingLimitError';
}

/**
 * Uniform words every windowed shader reads (the tail of the 128-word parameter slot, which no
 * kernel's own layout reaches): the piece's first index, its length, the output window's first word,
 * whether the piece is a box (map shaders), and the box's first coordinate and length per dim;
 * reductions also read a range of reduced elements and the stride between their outputs.
 */
export const PIECE = { box: 103, start: 104, count: 105, outShift: 106, rangeLo: 107, rangeHi: 108, outStride: 109, lo: 110, len: 118 } as const;
/** Parameter words below this are the kernels' own. */
export const PIECE_WORDS_START = 103;

/** True when `b` is a window rather than a whole buffer. */
export function isWindow(b: Binding): b is BufferWindow {
  return 'buffer' in b;
}

/** The first u32 word of the buffer a binding exposes (0 for a whole buffer). */
export function windowWord(b: Binding): number {
  return isWindow(b) ? b.offset / 4 : 0;
}

/** How far element indices of `dtype` move when read through `b`: its first word in elements. */
export function elementShift(b: Binding, dtype: DType): number {
  return windowWord(b) * elementsPerWord(dtype);
}

/**
 * The view read through `binding`: its storage's data becomes the window and its offset counts from
 * the window's first element, so a kernel that binds `bufferOf(view)` as is binds the window.
 */
export function viewThrough(view: TensorView, binding: Binding): TensorView {
  const storage = { ...view.storage, data: binding } as TensorView['storage'];
  return { storage, shape: view.shape, strides: view.strides, offset: view.offset - elementShift(binding, view.dtype), dtype: view.dtype };
}

/** Word range [first, last] holding elements [min, max] of `dtype`. */
function wordRange(dtype: DType, min: number, max: number): [number, number] {
  const epw = elementsPerWord(dtype);
  if (epw < 1) return [min * 2, max * 2 + 1]; // f64: two words per element
  return [Math.floor(min / epw), Math.floor(max / epw)];
}

/**
 * The binding for elements [min, max] of a buffer of `dtype`: the whole buffer when it fits the limit
 * (no window arithmetic on the common path), else the aligned window holding them, or null when even
 * that window exceeds the limit.
 */
export function windowOf(limits: WindowLimits, buffer: GPUBuffer, dtype: DType, min: number, max: number): Binding | null {
  if (buffer.size <= limits.maxBindingBytes) return buffer;
  const [from, last] = wordRange(dtype, min, max);
  // Reads reaching before the buffer (a rotary partner of the first rows: an extent below 0) never happen.
  const first = Math.max(0, from);
  const offset = Math.floor((first * 4) / limits.offsetAlignment) * limits.offsetAlignment;
  // Whole 16-byte vectors, so kernels that read vec4<u32> (the matmul fast path) can bind it.
  const size = Math.min(buffer.size, Math.ceil(((last + 1) * 4) / 16) * 16) - offset;
  if (size > limits.maxBindingBytes) return null;
  return { buffer, offset, size };
}

/** Element range [min, max] a view (offset, strides over the iteration dims) touches over a box (lo, len per dim; every len >= 1). */
export function boxSpan(offset: number, strides: readonly number[], lo: readonly number[], len: readonly number[]): [number, number] {
  let min = offset;
  let max = offset;
  strides.forEach((s, d) => {
    const first = lo[d]! * s;
    const last = (lo[d]! + len[d]! - 1) * s;
    min += Math.min(first, last);
    max += Math.max(first, last);
  });
  return [min, max];
}

/** Element range [min, max] a view touches over the flat range [e0, e1) (e1 > e0) of the row-major iteration over `shape`. */
export function rangeSpan(shape: Shape, strides: readonly number[], offset: number, e0: number, e1: number): [number, number] {
  const [lo, hi] = rangeSpanFrom(shape, strides, 0, e0, e1);
  return [offset + lo, offset + hi];
}

function rangeSpanFrom(shape: Shape, strides: readonly number[], d: number, e0: number, e1: number): [number, number] {
  if (d === shape.length) return [0, 0];
  let inner = 1;
  for (let k = d + 1; k < shape.length; k++) inner *= shape[k]!;
  const s = strides[d]!;
  const c0 = Math.floor(e0 / inner);
  const c1 = Math.floor((e1 - 1) / inner);
  const shifted = (c: number, [a, b]: [number, number]): [number, number] => [a + c * s, b + c * s];
  if (c0 === c1) return shifted(c0, rangeSpanFrom(shape, strides, d + 1, e0 - c0 * inner, e1 - c0 * inner));
  const parts: [number, number][] = [
    shifted(c0, rangeSpanFrom(shape, strides, d + 1, e0 - c0 * inner, inner)),
    shifted(c1, rangeSpanFrom(shape, strides, d + 1, 0, e1 - c1 * inner)),
  ];
  if (c1 - c0 >= 2) {
    const full = boxSpan(0, strides.slice(d + 1), shape.slice(d + 1).map(() => 0), shape.slice(d + 1));
    parts.push(shifted(c0 + 1, full), shifted(c1 - 1, full));
  }
  return [Math.min(...parts.map((p) => p[0])), Math.max(...parts.map((p) => p[1]))];
}

/** True when `elements` consecutive elements of `dtype` (a span max - min + 1) surely fit one window, wherever it starts (alignment and 16-byte rounding included). */
export function fitsSpan(limits: WindowLimits, dtype: DType, elements: number): boolean {
  const epw = elementsPerWord(dtype);
  const words = epw < 1 ? elements * 2 : Math.ceil(elements / epw) + 1;
  return words * 4 + limits.offsetAlignment + 16 <= limits.maxBindingBytes;
}

/** A strided operand of a box plan: its strides over the iteration dims and its dtype; `whole` when its buffer fits unsplit. */
export interface BoxOperand {
  readonly strides: readonly number[];
  readonly dtype: DType;
  readonly whole: boolean;
  /** Elements each iteration point reaches beyond its own (a whole row for row kernels; default 0). */
  readonly extent?: number;
}

/**
 * Box lengths per dim such that every operand's window over any box of those lengths fits. Halves
 * the dim contributing most to the widest overflowing span until all fit (a box of one element always
 * does), so a transposed operand gets square-ish boxes and a contiguous one whole rows.
 */
export function planBoxLengths(limits: WindowLimits, shape: Shape, operands: readonly BoxOperand[]): number[] {
  const len = shape.map((d) => Math.max(1, d));
  const zero = shape.map(() => 0);
  for (;;) {
    let worst: { d: number; weight: number } | null = null;
    for (const op of operands) {
      if (op.whole) continue;
      const [min, max] = boxSpan(0, op.strides, zero, len);
      if (fitsSpan(limits, op.dtype, max - min + 1 + (op.extent ?? 0))) continue;
      op.strides.forEach((s, d) => {
        const weight = (len[d]! - 1) * Math.abs(s);
        if (weight > 0 && (worst === null || weight > worst.weight)) worst = { d, weight };
      });
    }
    if (worst === null) return len; // fits, or a single point that does not (the caller's windowOf says which)
    const d = (worst as { d: number }).d;
    len[d] = Math.ceil(len[d]! / 2);
  }
}

/** Every box of lengths `len` tiling `shape` (the last box of each dim may be shorter). */
export function* boxesOf(shape: Shape, len: readonly number[]): Generator<{ lo: number[]; len: number[] }> {
  const counts = shape.map((d, i) => Math.ceil(d / len[i]!));
  const total = counts.reduce((a, b) => a * b, 1);
  for (let b = 0; b < total; b++) {
    const lo = new Array<number>(shape.length);
    const l = new Array<number>(shape.length);
    let rem = b;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % counts[d]!;
      rem = Math.floor(rem / counts[d]!);
      lo[d] = c * len[d]!;
      l[d] = Math.min(len[d]!, shape[d]! - lo[d]!);
    }
    yield { lo, len: l };
  }
}

/**
 * Cuts [0, n) into consecutive pieces, each a multiple of `granule` long (the last may end at n), as
 * long as `fits` allows, starting from `first` elements and halving where a piece does not fit.
 * Returns null when a piece of one granule does not fit.
 */
export function planRanges(n: number, granule: number, first: number, fits: (e0: number, e1: number) => boolean): [number, number][] | null {
  const out: [number, number][] = [];
  let size = Math.max(granule, Math.floor(first / granule) * granule);
  for (let e0 = 0; e0 < n; ) {
    let e1 = Math.min(n, e0 + size);
    while (!fits(e0, e1)) {
      if (e1 - e0 <= granule) return null;
      size = Math.max(granule, Math.floor((e1 - e0) / 2 / granule) * granule);
      e1 = Math.min(n, e0 + size);
    }
    out.push([e0, e1]);
    e0 = e1;
  }
  return out;
}

/** Elements of `dtype` one binding can surely hold (a first guess for planRanges). */
export function elementsPerBinding(limits: WindowLimits, dtype: DType): number {
  const epw = elementsPerWord(dtype);
  const words = Math.floor((limits.maxBindingBytes - limits.offsetAlignment - 16) / 4) - 1;
  return Math.max(1, Math.floor(words * epw));
}

/** The message of a BindingLimitError: what could not be bound, how large it is, the limit, and the ways round. */
export function bindingLimitMessage(where: string, what: string, bytes: number, limits: WindowLimits): string {
  return (
    `${where}: ${what} needs a binding of ${bytes} bytes, over the binding limit of ${limits.maxBindingBytes} bytes ` +
    `(maxStorageBufferBindingSize, or the backend's bindingLimitBytes) and this kernel cannot split it; ` +
    `split the tensor into smaller pieces (slice/concat along a dim), make it contiguous first (T.contiguous), or raise bindingLimitBytes`
  );
}
