// Every fused composite kernel of the gpujs backend is held to its decomposition: the fused result
// equals the decomposition run from gpujs primitives and equals the CPU backend, on strided inputs.
// The coverage test fails when a fused kernel is registered without a property here.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef, Tensor } from '@tessera/tensor';
import { GPUJS_KERNELS } from '../src/index.js';
import { expectSame, layoutArb, makeView, numRuns, shapeArb } from './cross-backend.js';

const seedArb = fc.integer({ min: 0, max: 1e6 });
const runs = () => ({ numRuns: numRuns() });

/** Runs a composite fused on `dev`, decomposed on `dev`, and on the CPU; compares all three. */
async function fusedMatches(dev: string, what: string, op: OpDef, build: (d: string) => Tensor[], attrs: unknown, tol?: [number, number]): Promise<void> {
  const xs = build(dev);
  const fused = T.apply(op, xs, attrs);
  const decomposed = T.withGradMode(false, () => T.tidy(() => (op as T.CompositeDef<unknown>).decompose(xs, attrs)));
  const xc = build('cpu');
  const cpu = T.apply(op, xc, attrs);
  try {
    await expectSame(decomposed, fused, `${what} (fused vs decomposition)`, tol);
    await expectSame(cpu, fused, `${what} (gpujs vs cpu)`, tol);
  } finally {
    [...xs, fused, decomposed, ...xc, cpu].forEach((t) => t.dispose());
  }
}

const rowShape = shapeArb(3, 9).filter((s) => s.length > 0 && s.every((d) => d > 0));

function properties(dev: string): Record<string, () => Promise<void>> {
  const axisOp = (op: OpDef) => () =>
    fc.assert(
      fc.asyncProperty(rowShape, layoutArb, fc.nat(2), seedArb, fc.constantFrom<DType>('f32', 'f16'), async (s, layout, ax, seed, d) => {
        const axis = ax % s.length;
        await fusedMatches(dev, `${op.name} ${d} ${layout} [${s}] axis ${axis}`, op, (dv) => [makeView(dv, s, layout, d, seed)], { axis }, d === 'f16' ? [8e-3, 8e-3] : undefined);
      }),
      runs(),
    );
  return {
    softmax: axisOp(T.OPS.softmax),
    logSoftmax: axisOp(T.OPS.logSoftmax),
    layerNorm: () =>
      fc.assert(
        fc.asyncProperty(rowShape, layoutArb, fc.boolean(), fc.boolean(), seedArb, async (s, layout, hasWeight, hasBias, seed) => {
          const d = s.at(-1)!;
          const build = (dv: string) => [makeView(dv, s, layout, 'f32', seed), ...(hasWeight ? [makeView(dv, [d], 'dense', 'f32', seed + 1)] : []), ...(hasBias ? [makeView(dv, [d], 'dense', 'f32', seed + 2)] : [])];
          // An expanded row is constant: its variance is rounding noise, which rstd = 1/sqrt(eps) ≈ 316 magnifies.
          const tol: [number, number] = layout === 'expanded' ? [1e-4, 1e-3] : [1e-4, 1e-4];
          await fusedMatches(dev, `layerNorm ${layout} [${s}] w=${hasWeight} b=${hasBias}`, T.OPS.layerNorm, build, { eps: 1e-5, hasWeight, hasBias }, tol);
        }),
        runs(),
      ),
    rmsNorm: () =>
      fc.assert(
        fc.asyncProperty(rowShape, layoutArb, fc.boolean(), seedArb, async (s, layout, hasWeight, seed) => {
          const build = (dv: string) => [makeView(dv, s, layout, 'f32', seed), ...(hasWeight ? [makeView(dv, [s.at(-1)!], 'dense', 'f32', seed + 1)] : [])];
          await fusedMatches(dev, `rmsNorm ${layout} [${s}] w=${hasWeight}`, T.OPS.rmsNorm, build, { eps: 1e-6, hasWeight }, [1e-4, 1e-4]);
        }),
        runs(),
      ),
    rotary: () => rotaryProperty(dev, T.OPS.rotary),
    rotaryBackward: () => rotaryProperty(dev, T.OPS.rotaryBackward),
    crossEntropyLosses: () => crossEntropyProperty(dev, T.OPS.crossEntropyLosses),
    crossEntropyBackward: () => crossEntropyProperty(dev, T.OPS.crossEntropyBackward),
  };
}

/** x (..., T, D) strided, cos/sin (T, D) or broadcast over a leading dim; D even. */
function rotaryProperty(dev: string, op: OpDef): Promise<void> {
  return fc.assert(
    fc.asyncProperty(shapeArb(2, 3).filter((s) => s.every((d) => d > 0)), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), layoutArb, seedArb, async (lead, t, half, layout, seed) => {
      const shape = [...lead, t, 2 * half];
      const build = (dv: string) => [makeView(dv, shape, layout, 'f32', seed), makeView(dv, [t, 2 * half], 'dense', 'f32', seed + 1), makeView(dv, [1, t, 2 * half], 'transposed', 'f32', seed + 2)];
      await fusedMatches(dev, `${op.name} ${layout} [${shape}]`, op, build, undefined);
    }),
    runs(),
  );
}

function crossEntropyProperty(dev: string, op: OpDef): Promise<void> {
  return fc.assert(
    fc.asyncProperty(shapeArb(2, 5).filter((s) => s.every((d) => d > 0)), fc.integer({ min: 1, max: 12 }), layoutArb, seedArb, fc.constantFrom(0, 0.1), async (lead, classes, layout, seed, labelSmoothing) => {
      const ignoreIndex = -100;
      const targets = Array.from({ length: T.numel(lead) }, (_, i) => ((i * 7 + seed) % (classes + 1) === classes ? ignoreIndex : (i * 7 + seed) % classes));
      const build = (dv: string) => {
        const logits = makeView(dv, [...lead, classes], layout, 'f32', seed);
        const t = T.tensor(targets, { shape: lead, dtype: 'i32', device: dv });
        return op === T.OPS.crossEntropyBackward ? [logits, t, makeView(dv, lead, 'dense', 'f32', seed + 5)] : [logits, t];
      };
      await fusedMatches(dev, `${op.name} ${layout} [${lead}] x ${classes} smoothing ${labelSmoothing}`, op, build, { ignoreIndex, labelSmoothing }, [1e-4, 1e-4]);
    }),
    runs(),
  );
}

/** AdamW's fused update (Backend.adamwUpdate) against the CPU's, over a few steps. */
async function adamwProperty(dev: string): Promise<void> {
  await fc.assert(
    fc.asyncProperty(shapeArb(3, 6), layoutArb, seedArb, fc.constantFrom(0, 0.01), async (s, layout, seed, weightDecay) => {
      const results: Tensor[][] = [];
      for (const dv of ['cpu', dev]) {
        let [p, m, v] = [makeView(dv, s, 'dense', 'f32', seed), T.zeros(s, { device: dv }), T.zeros(s, { device: dv })];
        for (let step = 1; step <= 3; step++) {
          const g = makeView(dv, s, layout, 'f32', seed + step);
          const r = T.adamwStep(p, g, m, v, { lr: 0.05, step, weightDecay });
          [p, m, v, g].forEach((t) => t.dispose());
          [p, m, v] = [r.param, r.m, r.v];
        }
        results.push([p, m, v]);
      }
      for (let i = 0; i < 3; i++) await expectSame(results[0]![i]!, results[1]![i]!, `adamw [${s}] ${layout} output ${i}`, [1e-5, 1e-5]);
      results.flat().forEach((t) => t.dispose());
    }),
    runs(),
  );
}

/** Registers the fused-kernel coverage test, one property per fused composite and the AdamW one, for `device`. */
export function fusedProperties(device: string): void {
  const props = properties(device);
  test('coverage: every fused composite kernel has a property', () => {
    const fused = [...GPUJS_KERNELS.keys()].filter((op) => op.kind === 'composite').map((op) => op.name);
    expect(fused.filter((n) => !(n in props))).toEqual([]);
  });
  for (const name of Object.keys(props)) test(`fused ${name}`, () => props[name]!());
  test('fused AdamW update (Backend.adamwUpdate) equals the CPU over 3 steps', () => adamwProperty(device));
}
