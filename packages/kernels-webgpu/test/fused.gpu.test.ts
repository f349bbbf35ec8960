// Every fused composite kernel is held to its decomposition: on WebGPU, the fused result equals the
// decomposition run from WebGPU primitives, and equals the CPU; the coverage test fails when a fused
// kernel is registered without a property here.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef, Tensor } from '@tessera/tensor';
import { WEBGPU_KERNELS } from '../src/index.js';
import { expectSame, gpuOrNull, layoutArb, makeView, numRuns, shapeArb } from './cross-backend.js';
import { crossEntropyProperty, normBackwardProperty, rotaryProperty, softmaxBackwardProperty } from './fused-backward-properties.js';
import { NF4_MATMUL_PROPERTIES } from './nf4-matmul-property.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

const rowOp = (op: OpDef) => () =>
  fc.assert(
    fc.asyncProperty(shapeArb(3, 70).filter((s) => s.length > 0), layoutArb, fc.nat(2), fc.integer({ min: 0, max: 1e6 }), fc.constantFrom<DType>('f32', 'f16', 'i32'), async (s, layout, ax, seed, d) => {
      const axis = ax % s.length;
      if (s[axis] === 0) {
        const x = makeView('webgpu', s, layout, d, seed);
        expect(() => T.apply(op, [x], { axis })).toThrow(/empty/);
        x.dispose();
        return;
      }
      const build = (dev: string) => makeView(dev, s, layout, d, seed);
      const xg = build('webgpu');
      const fused = T.apply(op, [xg], { axis });
      const decomposed = T.withGradMode(false, () => T.tidy(() => (op as T.CompositeDef<{ axis: number }>).decompose([xg], { axis })));
      const xc = build('cpu');
      const cpu = T.apply(op, [xc], { axis });
      const what = `${op.name} ${d} ${layout} [${s}] axis ${axis}`;
      // In f16 the decomposition rounds each intermediate (shifted x, the sum, its log) to f16; the fused kernel does not.
      const tol: [number, number] | undefined = d === 'f16' ? [8e-3, 8e-3] : undefined;
      await expectSame(decomposed, fused, `${what} (fused vs decomposition)`, tol);
      await expectSame(cpu, fused, `${what} (webgpu vs cpu)`, tol);
      [xg, fused, decomposed, xc, cpu].forEach((t: Tensor) => t.dispose());
    }),
    { numRuns: numRuns() },
  );

const normOp = (op: OpDef, withBias: boolean) => () =>
  fc.assert(
    fc.asyncProperty(shapeArb(3, 70).filter((s) => s.length > 0 && s.at(-1)! > 0), layoutArb, fc.integer({ min: 0, max: 1e6 }), fc.constantFrom<DType>('f32', 'f16'), fc.boolean(), fc.boolean(), async (s, layout, seed, d, hasWeight, hasBias0) => {
      const hasBias = withBias && hasBias0;
      // 'expanded' broadcasts the last dim when the rank is odd: every row is constant, and a
      // decomposition's rounded GPU mean leaves a residue that 1/sqrt(eps) amplifies (to O(1) in f16),
      // while the fused kernel (and the CPU's f64 mean) give the exact 0. There the fused kernel is held
      // to the CPU only, and in f32 only.
      const constantRows = op === T.OPS.layerNorm && layout === 'expanded' && s.length % 2 === 1;
      const build = (dev: string) => [
        makeView(dev, s, layout, d, seed),
        ...(hasWeight ? [makeView(dev, [s.at(-1)!], 'sliced', d, seed + 1)] : []),
        ...(hasBias ? [makeView(dev, [s.at(-1)!], 'dense', d, seed + 2)] : []),
      ];
      const attrs = withBias ? { eps: 1e-5, hasWeight, hasBias } : { eps: 1e-6, hasWeight };
      const g = build('webgpu');
      const fused = T.apply(op, g, attrs);
      const decomposed = T.withGradMode(false, () => T.tidy(() => (op as T.CompositeDef<typeof attrs>).decompose(g, attrs)));
      const c = build('cpu');
      // In f16 the decomposition rounds every intermediate (mean, centred values, variance) to f16, which
      // on short rows costs several percent; the fused kernel keeps f32 statistics. So f16 is held to the
      // f32 computation rounded once to f16, and f32 to the decomposition and to the CPU.
      const cpu = d === 'f16' ? T.tidy(() => T.cast(T.apply(op, c.map((t) => T.cast(t, 'f32')), attrs), 'f16')) : T.apply(op, c, attrs);
      const what = `${op.name} ${d} ${layout} [${s}] weight=${hasWeight} bias=${hasBias}`;
      // Constant rows: the CPU's own rounded mean leaves up to ulp(x) / sqrt(eps) ≈ 316 ulp(x).
      const tol: [number, number] = d === 'f16' ? [4e-3, 4e-3] : constantRows ? [1e-4, 2e-3] : [1e-4, 1e-4];
      if (!constantRows && d === 'f32') await expectSame(decomposed, fused, `${what} (fused vs decomposition)`, tol);
      await expectSame(cpu, fused, `${what} (webgpu vs cpu)`, tol);
      [...g, fused, decomposed, ...c, cpu].forEach((t: Tensor) => t.dispose());
    }),
    { numRuns: numRuns() },
  );

/** A fused kernel's property, or several named ones where one test would compile too many pipelines on a cold software adapter. */
type FusedProperties = (() => Promise<void>) | Readonly<Record<string, () => Promise<void>>>;

const FUSED = new Map<OpDef, FusedProperties>([
  [T.OPS.layerNorm, normOp(T.OPS.layerNorm, true)],
  [T.OPS.rmsNorm, normOp(T.OPS.rmsNorm, false)],
  [T.OPS.softmax, rowOp(T.OPS.softmax)],
  [T.OPS.logSoftmax, rowOp(T.OPS.logSoftmax)],
  [T.OPS.nf4Matmul, NF4_MATMUL_PROPERTIES],
  [T.OPS.softmaxBackward, softmaxBackwardProperty(T.OPS.softmaxBackward)],
  [T.OPS.logSoftmaxBackward, softmaxBackwardProperty(T.OPS.logSoftmaxBackward)],
  [T.OPS.layerNormBackward, normBackwardProperty(T.OPS.layerNormBackward)],
  [T.OPS.rmsNormBackward, normBackwardProperty(T.OPS.rmsNormBackward)],
  [T.OPS.rotary, rotaryProperty(T.OPS.rotary)],
  [T.OPS.rotaryBackward, rotaryProperty(T.OPS.rotaryBackward)],
  [T.OPS.crossEntropyLosses, crossEntropyProperty(T.OPS.crossEntropyLosses)],
  [T.OPS.crossEntropyBackward, crossEntropyProperty(T.OPS.crossEntropyBackward)],
]);

describe.skipIf(gpu === null)('fused composite kernels equal their decompositions', () => {
  test('coverage: every fused kernel has a property', () => {
    // The attention kernels have their own file (attention.gpu.test.ts, with its own coverage test).
    const fusedOps = [...WEBGPU_KERNELS.keys()].filter((op) => op.kind === 'composite' && !op.name.startsWith('attention'));
    expect(fusedOps.filter((op) => !FUSED.has(op)).map((op) => op.name)).toEqual([]);
  });
  for (const [op, properties] of FUSED) {
    if (typeof properties === 'function') test(op.name, properties);
    else for (const [name, property] of Object.entries(properties)) test(`${op.name} (${name})`, property);
  }
});
