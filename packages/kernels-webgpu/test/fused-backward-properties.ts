// Properties holding the fused backward kernels (softmax, logSoftmax, layerNorm, rmsNorm), the fused
// rotary embedding (forward and backward) and the streaming cross-entropy (per-position losses and
// dlogits) to their decompositions run on the CPU: same values, same strided layouts, f32 tolerances.
// Registered in test/fused.gpu.test.ts's FUSED table (its coverage test names any kernel left out).
import fc from 'fast-check';
import { expect } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef, Tensor } from '@tessera/tensor';
import { expectSame, layoutArb, makeView, numRuns, rng, shapeArb, type Layout } from './cross-backend.js';

/** Both results of an op on WebGPU (fused) and on the CPU (the decomposition), compared; all disposed. */
async function fusedEqualsCpu<A>(op: OpDef<A>, build: (device: string) => Tensor[], attrs: A, what: string, tol: [number, number]): Promise<void> {
  const g = build('webgpu');
  const c = build('cpu');
  const fused = T.apply(op, g, attrs);
  // The decomposition itself (one level: composites inside it may run the CPU backend's own kernels).
  const cpu = T.withGradMode(false, () => T.tidy(() => (op as T.CompositeDef<A>).decompose(c, attrs)));
  try {
    await expectSame(cpu, fused, `${op.name} ${what} (webgpu fused vs cpu decomposition)`, tol);
  } finally {
    [...g, ...c, fused, cpu].forEach((t) => t.dispose());
  }
}

/** x and dy of one shape, each in its own layout. */
const pairArb = (maxRank: number, maxDim: number) =>
  fc.record({
    shape: shapeArb(maxRank, maxDim).filter((s) => s.length > 0),
    xLayout: layoutArb,
    dyLayout: layoutArb,
    seed: fc.integer({ min: 0, max: 1e6 }),
  });

/** softmaxBackward / logSoftmaxBackward along any axis, rows of up to 70 (more than one 64-wide pass), f32 or f16. */
export const softmaxBackwardProperty = (op: OpDef) => () =>
  fc.assert(
    fc.asyncProperty(pairArb(3, 70), fc.nat(2), fc.constantFrom<DType>('f32', 'f32', 'f16'), async ({ shape, xLayout, dyLayout, seed }, ax, d) => {
      const axis = ax % shape.length;
      const build = (dev: string) => [makeView(dev, shape, xLayout, d, seed), makeView(dev, shape, dyLayout, d, seed + 1)];
      if (shape[axis] === 0) {
        const xs = build('webgpu');
        expect(() => T.apply(op, xs, { axis })).toThrow(/empty/);
        xs.forEach((t) => t.dispose());
        return;
      }
      // f16: the decomposition rounds softmax, the products and the row sum to f16; the fused kernel rounds once.
      const tol: [number, number] = d === 'f16' ? [8e-3, 8e-3] : [1e-4, 1e-5];
      await fusedEqualsCpu(op, build, { axis }, `${d} ${xLayout}/${dyLayout} [${shape}] axis ${axis}`, tol);
    }),
    { numRuns: numRuns() },
  );

/**
 * layerNormBackward / rmsNormBackward over the last dim, weight optional. x never has the 'expanded'
 * layout: a constant row's rstd is 1/sqrt(eps), which amplifies the CPU's own rounded mean (the forward
 * property says more). rmsNorm also runs f16 x: its dy * weight is rounded to f16 before the f32 math.
 */
export const normBackwardProperty = (op: OpDef) => () =>
  fc.assert(
    fc.asyncProperty(
      pairArb(3, 70).filter((r) => r.shape.at(-1)! > 0 && r.xLayout !== 'expanded'),
      fc.boolean(),
      fc.constantFrom<DType>('f32', 'f16'),
      async ({ shape, xLayout, dyLayout, seed }, hasWeight, d0) => {
        const d = op === T.OPS.rmsNormBackward ? d0 : 'f32';
        const eps = op === T.OPS.rmsNormBackward ? 1e-6 : 1e-5;
        const build = (dev: string) => [
          makeView(dev, shape, xLayout, d, seed),
          makeView(dev, shape, dyLayout, d, seed + 1),
          ...(hasWeight ? [makeView(dev, [shape.at(-1)!], 'sliced', d, seed + 2)] : []),
        ];
        // dx scales with rstd: a row of nearly equal values (layerNorm) or of values near 0 (rmsNorm)
        // amplifies every rounding of both computations by it, so the tolerance grows with the largest rstd.
        const x = makeView('cpu', shape, xLayout, 'f32', seed);
        const spread = op === T.OPS.rmsNormBackward ? T.mean(T.square(x), -1) : T.variance(x, -1, false, 0);
        const rstd = T.rsqrt(T.add(spread, eps));
        const amplification = Math.max(1, ...Array.from((await rstd.data()) as Float32Array));
        [x, spread, rstd].forEach((t) => t.dispose());
        // f16: the CPU widens every f16 kernel to f32 and rounds its result, so a few intermediate roundings differ.
        const tol: [number, number] = d === 'f16' ? [1e-2, 1e-2 * amplification] : [1e-4, 1e-4 * amplification];
        await fusedEqualsCpu(op, build, { eps, hasWeight }, `${d} ${xLayout}/${dyLayout} [${shape}] weight=${hasWeight}`, tol);
      },
    ),
    // Regression (found by fast-check): a row of two close values, rstd ~ 70, broke a fixed 1e-4 tolerance.
    { numRuns: numRuns(), examples: [[{ shape: [8, 2], xLayout: 'dense', dyLayout: 'dense', seed: 722430 }, false, 'f32']] },
  );

/** rotary (x, cos, sin) and rotaryBackward (dy, cos, sin): x (..., T, D) with tables (T, D), D up to 80 and odd D/2. */
export const rotaryProperty = (op: OpDef) => () =>
  fc.assert(
    fc.asyncProperty(
      fc.record({
        lead: shapeArb(2, 3),
        t: fc.integer({ min: 1, max: 5 }),
        half: fc.integer({ min: 1, max: 40 }),
        xLayout: layoutArb,
        tableLayout: fc.constantFrom<Layout>('dense', 'transposed', 'sliced'),
        dtype: fc.constantFrom<DType>('f32', 'f16'),
        seed: fc.integer({ min: 0, max: 1e6 }),
      }),
      async ({ lead, t, half, xLayout, tableLayout, dtype, seed }) => {
        const shape = [...lead, t, 2 * half];
        const build = (dev: string) => [
          makeView(dev, shape, xLayout, dtype, seed),
          makeView(dev, [t, 2 * half], tableLayout, dtype, seed + 1, 'unit'),
          makeView(dev, [t, 2 * half], tableLayout, dtype, seed + 2, 'unit'),
        ];
        // f16: the decomposition rounds both products and the rotated half to f16; the fused kernel rounds once.
        const tol: [number, number] = dtype === 'f16' ? [4e-3, 8e-3] : [2e-5, 2e-5];
        await fusedEqualsCpu(op, build, undefined, `${dtype} ${xLayout}/${tableLayout} [${shape}]`, tol);
      },
    ),
    { numRuns: numRuns() },
  );

/**
 * crossEntropyLosses (logits, targets) and crossEntropyBackward (logits, targets, g): rows of C up to 70
 * or of a vocabulary of 4000-5000 (many 64-wide chunks per invocation), a quarter of the targets
 * ignored, label smoothing 0 or 0.1, logits in any layout (a transposed class dim included), f32 or f16.
 */
export const crossEntropyProperty = (op: OpDef) => () =>
  fc.assert(
    fc.asyncProperty(
      fc.oneof(
        { weight: 3, arbitrary: fc.tuple(shapeArb(2, 4), fc.integer({ min: 1, max: 70 })) },
        { weight: 1, arbitrary: fc.tuple(shapeArb(1, 3), fc.integer({ min: 4000, max: 5000 })) },
      ),
      layoutArb,
      fc.constantFrom(0, 0.1),
      fc.constantFrom<DType>('f32', 'f32', 'f16'),
      fc.integer({ min: 0, max: 1e6 }),
      async ([lead, c], layout, labelSmoothing, dtype, seed) => {
        const n = lead.reduce((a, b) => a * b, 1);
        const next = rng(seed + 7);
        const ids = Array.from({ length: n }, () => (next() < 0.25 ? -100 : Math.floor(next() * c)));
        const build = (dev: string) => [
          makeView(dev, [...lead, c], layout, dtype, seed),
          T.tensor(ids, { shape: lead, dtype: 'i32', device: dev }),
          ...(op === T.OPS.crossEntropyBackward ? [makeView(dev, lead, 'dense', dtype, seed + 3)] : []),
        ];
        const backward = op === T.OPS.crossEntropyBackward;
        // f16: the decomposition rounds the log-probabilities (|x| up to ~12: ulp 2^-7) and softmax to f16; the fused kernel rounds once.
        // f16 backward: the decomposition rounds its softmax to f16 (2^-10 steps near 1) before subtracting the target, so its
        // dlogits carry ~1e-3 absolute error; the fused kernel keeps f32 until the store (found: 0.1005 vs 0.0994).
        const tol: [number, number] = dtype === 'f16' ? (backward ? [8e-3, 2e-3] : [4e-3, 2e-2]) : backward ? [1e-4, 1e-6] : [1e-5, 1e-4];
        await fusedEqualsCpu(op, build, { ignoreIndex: -100, labelSmoothing }, `${dtype} ${layout} [${lead}] x ${c} smoothing ${labelSmoothing}`, tol);
      },
    ),
    { numRuns: numRuns() },
  );
