// Test support: tensors of a requested logical shape laid out in every way a kernel must handle
// (dense, dense at an offset, transposed, strided slice with an offset, broadcast with stride 0), and an independent
// reader of a view's logical values straight from storage.
import fc from 'fast-check';
import { numel, registerBackend, tensor, type DType, type Tensor, type TensorView } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';

registerBackend(createCpuBackend());

/** Run count for properties: FC_NUM_RUNS from the environment, else 100. */
export function numRuns(fallback = 100): number {
  const n = Number.parseInt(process.env.FC_NUM_RUNS ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The layouts a view can take. */
export type Layout = 'dense' | 'offset' | 'transposed' | 'sliced' | 'expanded';
export const LAYOUTS: readonly Layout[] = ['dense', 'offset', 'transposed', 'sliced', 'expanded'];

/** A small deterministic generator (mulberry32) for element values. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How element values are drawn. */
export type ValueKind = 'real' | 'positive' | 'smallInt' | 'unit';

function draw(kind: ValueKind, dtype: DType, next: () => number): number {
  if (dtype === 'bool') return next() < 0.5 ? 0 : 1;
  if (dtype === 'u8' || dtype === 'u32') return Math.floor(next() * 7);
  if (dtype === 'i32' || kind === 'smallInt') return Math.floor(next() * 9) - 4;
  if (kind === 'positive') return 0.05 + next() * 4;
  if (kind === 'unit') return next() * 1.8 - 0.9;
  return (next() - 0.5) * 8;
}

/** A tensor of logical `shape` in the given layout, with values drawn from `seed`. */
export function makeView(shape: readonly number[], layout: Layout, dtype: DType, seed: number, kind: ValueKind = 'real'): Tensor {
  const next = rng(seed);
  const fill = (s: readonly number[]) =>
    tensor(Array.from({ length: numel(s) }, () => draw(kind, dtype, next)), { shape: [...s], dtype });
  const rank = shape.length;
  switch (layout) {
    case 'dense':
      return fill(shape);
    case 'offset': {
      // Dense and row-major, but starting 2 rows into a larger storage: the fast paths must honour the offset.
      if (rank === 0) return fill([3]).slice(0, 2, 3).reshape([]);
      return fill([shape[0]! + 3, ...shape.slice(1)]).slice(0, 2, 2 + shape[0]!);
    }
    case 'transposed': {
      // Reversed dims in storage, permuted back: every stride is out of row-major order.
      const perm = shape.map((_, i) => rank - 1 - i);
      return fill(perm.map((p) => shape[p]!)).permute(perm);
    }
    case 'sliced': {
      // Every other element starting at 1: non-unit strides and a non-zero offset.
      let t = fill(shape.map((d) => 2 * d + 1));
      shape.forEach((d, i) => (t = t.slice(i, 1, 1 + 2 * d, 2)));
      return t;
    }
    case 'expanded': {
      // Dims at even positions are broadcast from size 1 (stride 0).
      const base = shape.map((d, i) => (i % 2 === 0 && d > 0 ? 1 : d));
      return fill(base).expand([...shape]);
    }
  }
}

/** A view's logical elements in row-major order, read from storage with its strides (f16/bf16 raw). */
export function logical(view: TensorView): number[] {
  const data = view.storage.data as ArrayLike<number>;
  const out: number[] = [];
  const rank = view.shape.length;
  const n = numel(view.shape);
  const idx = new Array<number>(rank).fill(0);
  for (let f = 0; f < n; f++) {
    let off = view.offset;
    for (let i = 0; i < rank; i++) off += idx[i]! * view.strides[i]!;
    out.push(data[off]!);
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < view.shape[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** Row-major multi-indices of a shape. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < n; f++) {
    yield [...idx];
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
}

/** Flat row-major position of a multi-index. */
export function flatIndex(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let i = 0; i < shape.length; i++) f = f * shape[i]! + idx[i]!;
  return f;
}

/** Shapes of rank 0-4 with sizes 0-5, biased towards non-empty. */
export const shapeArb = (maxRank = 4, maxDim = 5): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 12, arbitrary: fc.integer({ min: 1, max: maxDim }) }), { minLength: 0, maxLength: maxRank });

export const layoutArb = fc.constantFrom(...LAYOUTS);
export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** A shape that broadcasts to `shape`: some leading dims dropped, some dims set to 1. */
export const broadcastableArb = (shape: readonly number[]): fc.Arbitrary<number[]> =>
  fc.tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length })).map(
    ([drop, ones]) => shape.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
  );

/** The element of a (logical, row-major) operand of `opShape` that broadcasts onto output index `idx`. */
export function broadcastRead(values: readonly number[], opShape: readonly number[], idx: readonly number[]): number {
  const lead = idx.length - opShape.length;
  const own = opShape.map((d, i) => (d === 1 ? 0 : idx[lead + i]!));
  return values[flatIndex(own, opShape)]!;
}

/** |a - b| within atol + rtol * |b|, treating equal NaNs and equal infinities as equal. */
export function close(a: number, b: number, rtol: number, atol = 0): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/** Asserts elementwise closeness with a message naming the first bad element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 0, what = ''): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} vs expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i]!, expected[i]!, rtol, atol)) {
      throw new Error(`${what}: element ${i} is ${actual[i]} but expected ${expected[i]} (rtol ${rtol}, atol ${atol})`);
    }
  }
}
