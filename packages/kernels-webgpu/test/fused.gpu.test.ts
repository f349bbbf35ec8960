// Every fused composite kernel is held to its decomposition: on WebGPU, the fused result equals the
// decomposition run from WebGPU primitives, and equals the CPU; the coverage test fails when a fused
// kernel is registered without a property here.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef, Tensor } from '@tessera/tensor';
import { WEBGPU_KERNELS } from '../src/index.js';
import { expectSame, gpuOrNull, layoutArb, makeView, numRuns, shapeArb } from './cross-backend.js';

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

const FUSED: Map<OpDef, () => Promise<void>> = new Map([
  [T.OPS.softmax, rowOp(T.OPS.softmax)],
  [T.OPS.logSoftmax, rowOp(T.OPS.logSoftmax)],
]);

describe.skipIf(gpu === null)('fused composite kernels equal their decompositions', () => {
  test('coverage: every fused kernel has a property', () => {
    const fusedOps = [...WEBGPU_KERNELS.keys()].filter((op) => op.kind === 'composite');
    expect(fusedOps.filter((op) => !FUSED.has(op)).map((op) => op.name)).toEqual([]);
  });
  for (const [op, property] of FUSED) test(op.name, property);
});
