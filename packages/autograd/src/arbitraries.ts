// fast-check arbitraries for property tests of tensor code, shared by every package's tests.
import fc from 'fast-check';
import { broadcastShapes, tensor, type DType, type Shape, type Tensor } from '@tessera/tensor';

/** Bounds of generated shapes. */
export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

/** Shapes with rank and dims in the given bounds (defaults: rank 0..3, dims 1..4). */
export function shapeArb(opts: ShapeOptions = {}): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: opts.minDim ?? 1, max: opts.maxDim ?? 4 }), {
    minLength: opts.minRank ?? 0,
    maxLength: opts.maxRank ?? 3,
  });
}

/** Pairs of shapes that broadcast together by NumPy rules (size-1 dims and missing leading dims). */
export function broadcastPairArb(opts: ShapeOptions = {}): fc.Arbitrary<[number[], number[]]> {
  return shapeArb(opts).chain((full) =>
    fc
      .tuple(
        fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
        fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
        fc.nat({ max: full.length }),
        fc.nat({ max: full.length }),
      )
      .map(([onesA, onesB, dropA, dropB]) => {
        const a = full.map((d, i) => (onesA[i] ? 1 : d)).slice(dropA);
        const b = full.map((d, i) => (onesB[i] && !onesA[i] ? 1 : d)).slice(dropB);
        broadcastShapes(a, b); // by construction always compatible
        return [a, b] as [number[], number[]];
      }),
  );
}

/** A non-empty, sorted, unique subset of the axes of a rank (an empty list for rank 0). */
export function axesArb(rank: number): fc.Arbitrary<number[]> {
  if (rank === 0) return fc.constant([]);
  return fc
    .subarray(Array.from({ length: rank }, (_, i) => i), { minLength: 1 })
    .map((axes) => [...axes].sort((a, b) => a - b));
}

/** Value range of generated elements. */
export interface ValueOptions {
  min?: number;
  max?: number;
  /** Keep |x| at least this far from these points (kinks such as 0 for relu/abs). */
  avoid?: readonly number[];
  margin?: number;
}

/** Finite doubles in [min, max] (default [-3, 3]) kept away from `avoid` points. */
export function valueArb(opts: ValueOptions = {}): fc.Arbitrary<number> {
  const min = opts.min ?? -3;
  const max = opts.max ?? 3;
  const margin = opts.margin ?? 1e-2;
  return fc
    .double({ min, max, noNaN: true, noDefaultInfinity: true })
    .map((x) => {
      for (const p of opts.avoid ?? []) if (Math.abs(x - p) < margin) return p + (x < p ? -margin : margin);
      return x;
    })
    .map((x) => Math.min(max, Math.max(min, x)));
}

/** Element values for a shape. */
export function valuesArb(shape: Shape, opts: ValueOptions = {}): fc.Arbitrary<number[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.array(valueArb(opts), { minLength: n, maxLength: n });
}

/** A description of a tensor (shape and values) to build inside a property with `toTensor`. */
export interface TensorData {
  shape: number[];
  values: number[];
}

/** Shapes from `shapes` filled with values from `opts`. */
export function tensorDataArb(shapes: fc.Arbitrary<number[]> = shapeArb(), opts: ValueOptions = {}): fc.Arbitrary<TensorData> {
  return shapes.chain((shape) => valuesArb(shape, opts).map((values) => ({ shape, values })));
}

/** Builds the tensor a `TensorData` describes (default dtype f64, for gradient checks). */
export function toTensor(data: TensorData, dtype: DType = 'f64'): Tensor {
  return tensor(data.values, { shape: data.shape, dtype });
}

/** Tensors drawn directly (build them inside a `tidy` in the property so they are disposed). */
export function tensorArb(shapes: fc.Arbitrary<number[]> = shapeArb(), opts: ValueOptions & { dtype?: DType } = {}): fc.Arbitrary<Tensor> {
  return tensorDataArb(shapes, opts).map((d) => toTensor(d, opts.dtype ?? 'f64'));
}

/** Run count for properties: FC_NUM_RUNS from the environment, else `fallback` (100). */
export function numRuns(fallback = 100): number {
  const env = typeof process !== 'undefined' ? process.env?.FC_NUM_RUNS : undefined;
  const n = env ? Number.parseInt(env, 10) : NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
