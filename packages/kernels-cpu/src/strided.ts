// The one strided walker every elementwise, reduction and indexing kernel shares. Kernels describe
// each operand by its strides over a common iteration shape (stride 0 for broadcast or reduced
// dims); the walker merges dims that are contiguous for every operand, so the common dense case
// becomes a single long row, and hands the kernel one innermost row at a time.
import { contiguousStrides, type Shape, type TensorView } from '@tessera/tensor';

/** Called once per innermost row: `offsets[j]` is operand j's first element, `n` the row length. */
export type RowBody = (offsets: number[], n: number, innerStrides: readonly number[]) => void;

/** An iteration space after merging dims: its shape and each operand's strides over it. */
export interface StridedPlan {
  readonly shape: number[];
  readonly strides: number[][];
}

/** `view`'s strides aligned to a broadcast shape: missing leading dims and size-1 dims get stride 0. */
export function broadcastStrides(view: Pick<TensorView, 'shape' | 'strides'>, shape: Shape): number[] {
  const lead = shape.length - view.shape.length;
  const out = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < view.shape.length; i++) {
    if (view.shape[i] !== 1) out[lead + i] = view.strides[i]!;
  }
  return out;
}

/** Drops size-1 dims and merges neighbours that are contiguous for every operand. */
export function collapseDims(shape: Shape, strides: readonly (readonly number[])[]): StridedPlan {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    // dim d-1 (already kept) merges into d when stepping it equals stepping d `size` times.
    if (last >= 0 && strides.every((s, j) => outStrides[j]![last] === s[d]! * size)) {
      outShape[last] = outShape[last]! * size;
      strides.forEach((s, j) => (outStrides[j]![last] = s[d]!));
      continue;
    }
    outShape.push(size);
    strides.forEach((s, j) => outStrides[j]!.push(s[d]!));
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Walks `shape` in row-major order, calling `body` per innermost row with each operand's offset.
 * `starts` are the operands' offsets of element 0. Nothing is called for an empty shape.
 */
export function forEachRow(shape: Shape, strides: readonly (readonly number[])[], starts: readonly number[], body: RowBody): void {
  const plan = collapseDims(shape, strides);
  const dims = plan.shape;
  for (const d of dims) if (d === 0) return;
  const offsets = [...starts];
  const rank = dims.length;
  if (rank === 0) {
    body(offsets, 1, starts.map(() => 0));
    return;
  }
  const n = dims[rank - 1]!;
  const inner = plan.strides.map((s) => s[rank - 1]!);
  const k = offsets.length;
  const index = new Array<number>(rank).fill(0);
  for (;;) {
    body(offsets, n, inner);
    // Odometer over the outer dims, updating offsets incrementally.
    let d = rank - 2;
    for (; d >= 0; d--) {
      index[d]!++;
      if (index[d]! < dims[d]!) {
        for (let j = 0; j < k; j++) offsets[j]! += plan.strides[j]![d]!;
        break;
      }
      for (let j = 0; j < k; j++) offsets[j]! -= plan.strides[j]![d]! * (dims[d]! - 1);
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Contiguous strides of the output (re-exported so kernels import their layout helpers from one place). */
export const denseStrides = contiguousStrides;

/** True when a view's elements are exactly `size` consecutive storage elements in row-major order. */
export function isDenseRowMajor(view: TensorView): boolean {
  const strides = contiguousStrides(view.shape);
  return view.shape.every((d, i) => d === 1 || view.strides[i] === strides[i]);
}

/** The multi-index of row-major flat position `flat` in `shape` (for error messages). */
export function unravel(flat: number, shape: Shape): number[] {
  const out = new Array<number>(shape.length).fill(0);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === 0) break;
    out[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return out;
}
