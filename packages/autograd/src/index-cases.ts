// Cases for the out-of-range index tests of gather and scatterAdd, shared by the GPU kernels packages
// (whose kernels cannot throw and report a bad index later): random shapes, index dtypes and layouts
// with indices in range, sometimes out of range, or always out of range, and the CPU backend's error.
import fc from 'fast-check';
import { numel, tensor, tidy, type DType, type Tensor } from '@tessera/tensor';
import { rng } from './cross-backend.js';

/** How an index tensor is laid out. */
export type IndexLayout = 'dense' | 'transposed' | 'expanded';

/** One drawn case: the indexed tensor's shape, the axis pick, the index dtype and layout, and how often an index is bad. */
export interface IndexCase {
  xShape: number[];
  axisPick: number;
  dtype: DType;
  layout: IndexLayout;
  seed: number;
  /** How often an element is out of range: 0 (never), 0.1, 1 (always). */
  badRate: number;
}

export const indexCaseArb: fc.Arbitrary<IndexCase> = fc.record({
  xShape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  axisPick: fc.nat(2),
  dtype: fc.constantFrom<DType>('i32', 'u32', 'u8'),
  layout: fc.constantFrom<IndexLayout>('dense', 'transposed', 'expanded'),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  badRate: fc.constantFrom(0, 0.1, 1),
});

/** The axis, its size, the index shape and its values (row-major; negative ones only for i32) of a case. */
export function buildIndexCase({ xShape, axisPick, dtype, seed, badRate }: IndexCase): { axis: number; size: number; idxShape: number[]; values: number[] } {
  const axis = axisPick % xShape.length;
  const size = xShape[axis]!;
  const next = rng(seed);
  const idxShape = xShape.map((d, i) => (i === axis ? 1 + Math.floor(next() * 5) : Math.max(1, d - Math.floor(next() * 2))));
  const values = Array.from({ length: numel(idxShape) }, () => {
    if (next() >= badRate) return Math.floor(next() * size);
    const over = size + Math.floor(next() * 3);
    return dtype === 'i32' && next() < 0.5 ? -1 - Math.floor(next() * 3) : over;
  });
  return { axis, size, idxShape, values };
}

/** An index tensor of logical `shape` holding `values` (row-major) in the given layout. */
export function indexView(device: string, values: number[], shape: number[], dtype: DType, layout: IndexLayout): Tensor {
  if (layout === 'transposed') {
    const perm = shape.map((_, i) => shape.length - 1 - i);
    // Store the transpose so that permuting back yields `values` in row-major order of `shape`.
    const stored = tensor(values, { shape, dtype, device: 'cpu' }).permute(perm).contiguous();
    return tensor(Array.from(stored.dataSync() as ArrayLike<number>), { shape: perm.map((p) => shape[p]!), dtype, device }).permute(perm);
  }
  if (layout === 'expanded') {
    // Broadcast along dim 0: every slice repeats the first one.
    const base = [1, ...shape.slice(1)];
    return tensor(values.slice(0, numel(base)), { shape: base, dtype, device }).expand(shape);
  }
  return tensor(values, { shape, dtype, device });
}

/** The CPU backend's error message for `build`, or null when it succeeds. */
export function cpuError(build: () => Tensor): string | null {
  try {
    tidy(build).dispose();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
