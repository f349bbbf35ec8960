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
  // Read as the literal expression so a bundler's define (browser test pages) can substitute it.
  let env: string | undefined;
  try {
    env = process.env.FC_NUM_RUNS;
  } catch {
    env = undefined; // no `process` (a browser without the define)
  }
  const n = env ? Number.parseInt(env, 10) : NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The geometry of an attention problem: q (B, H, T, D) against k, v (B, Hkv, S, D), H = Hkv·group. */
export interface AttentionShape<M extends string = string> {
  b: number;
  hkv: number;
  group: number;
  h: number;
  t: number;
  s: number;
  d: number;
  causal: boolean;
  mask: M;
}

/** Bounds of `attentionShapeArb` (each a range from 1, S − T from minExtra). */
export interface AttentionShapeOptions<M extends string> {
  maxBatch?: number;
  maxKvHeads?: number;
  maxGroup?: number;
  maxT?: number;
  /** Keys beyond the queries, S − T (default 0..2); a negative minimum gives S < T when not causal. */
  minExtra?: number;
  maxExtra?: number;
  /** Head dims: up to this (default 3), or drawn from a list (tile edges, 64, 128). */
  maxD?: number;
  headDims?: readonly number[];
  /** Mask kinds the test builds (default none, bool, float). */
  masks?: readonly M[];
}

/**
 * Attention problems with grouped-query heads and causal masks where S may differ from T. A causal
 * problem always has S ≥ T, so every query row sees at least key 0 (S < T leaves rows with no key:
 * NaN, tested apart); S is at least 1.
 */
export function attentionShapeArb<M extends string = 'none' | 'bool' | 'float'>(opts: AttentionShapeOptions<M> = {}): fc.Arbitrary<AttentionShape<M>> {
  const masks = opts.masks ?? (['none', 'bool', 'float'] as unknown as readonly M[]);
  return fc
    .record({
      b: fc.integer({ min: 1, max: opts.maxBatch ?? 2 }),
      hkv: fc.integer({ min: 1, max: opts.maxKvHeads ?? 2 }),
      group: fc.integer({ min: 1, max: opts.maxGroup ?? 2 }),
      t: fc.integer({ min: 1, max: opts.maxT ?? 3 }),
      extra: fc.integer({ min: opts.minExtra ?? 0, max: opts.maxExtra ?? 2 }),
      d: opts.headDims ? fc.constantFrom(...opts.headDims) : fc.integer({ min: 1, max: opts.maxD ?? 3 }),
      causal: fc.boolean(),
      mask: fc.constantFrom(...masks),
    })
    .map(({ extra, ...p }) => ({ ...p, h: p.hkv * p.group, s: Math.max(1, p.t + (p.causal ? Math.abs(extra) : extra)) }));
}
