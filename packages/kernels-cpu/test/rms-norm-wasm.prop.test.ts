// rmsNorm and its input gradient on the SIMD elementwise module (wasm/elementwise-wat.ts, through
// kernels/row-tasks-threaded.ts) held bit for bit to the TypeScript kernel (kernels/rms-norm.ts): random
// shapes, odd row lengths, element offsets, with and without weight, arena blocks and plain arrays
// (the in-place and copying paths), on the calling thread alone and split with a worker. Run under
// TESSERA_GEMM_VARIANT=simd128 too for the other build.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OPS, type OpDef, type TensorView } from '@tessera/tensor';
import type { CpuKernel } from '../src/cpu-kernel.js';
import { rowTaskKernels } from '../src/kernels/row-tasks-threaded.js';
import { rmsNormBackwardKernel, rmsNormKernel } from '../src/kernels/rms-norm.js';
import { CPU_KERNELS } from '../src/registry.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { ARENA_MIN_ELEMENTS, agentMemory, arenaBlock, configureArena } from '../src/wasm/f32-arena.js';
import { configureInPlace, inPlaceRowRuns } from '../src/wasm/wasm-elementwise.js';
import { arenaOperand, operandView } from './arena-operands.js';
import { expectIdentical } from './identical-arrays.js';
import { numRuns, seedArb } from './views.js';

beforeAll(() => {
  agentMemory();
  configureArena({ enabled: true, minElements: 1 });
});
const gemm = new WasmGemm(2, 0);
const RMS_OPS: readonly OpDef[] = [OPS.rmsNorm, OPS.rmsNormBackward];
/** The row kernels on the calling thread alone and split with a worker at any size; rmsNorm must not fall back on dense f32. */
const rowKernels = [null, gemm].map(
  (engine) =>
    new Map(
      rowTaskKernels({
        gemm: engine && (() => engine),
        minElements: 0,
        simdMinElements: 0,
        adaptive: false,
        fallback: (op) =>
          RMS_OPS.includes(op)
            ? () => {
                throw new Error(`${op.name} fell back to the TypeScript kernel on dense f32 operands`);
              }
            : (CPU_KERNELS.get(op) as CpuKernel),
      }),
    ),
);
afterAll(() => {
  gemm.close();
  configureArena({ enabled: true, minElements: ARENA_MIN_ELEMENTS });
  configureInPlace({ enabled: true });
});

/** Values in [-4, 4) spread over `scale` binades. */
const binades =
  (scale: number) =>
  (next: () => number): number =>
    (next() * 8 - 4) * 2 ** Math.floor((next() - 0.5) * scale);

describe('rmsNorm on the SIMD module gives the TypeScript kernel bit for bit', () => {
  test('forward and input gradient (arena and plain operands mixed, offsets, odd row lengths, weight or not, 1 and 2 threads, in place or copied)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 20 }), fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(64, 128, 1024, 4099))),
        fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 })),
        fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
        fc.tuple(fc.boolean(), fc.constantFrom(0, 1), fc.boolean(), fc.constantFrom(1e-5, 1e-6, 0.1), fc.constantFrom(0, 8, 40)),
        seedArb,
        (backward, [lead, rows, cols], [xo, yo, wo], [xArena, yArena, dArena], [hasW, threads, inPlace, eps, scale], seed) => {
          const shape = lead === 1 ? [rows, cols] : [lead, rows, cols];
          const n = lead * rows * cols;
          const x = operandView(arenaOperand(n, xo, xArena, seed, binades(scale)), shape, xo);
          const dy = operandView(arenaOperand(n, yo, yArena, seed + 1, binades(scale)), shape, yo);
          const w = operandView(arenaOperand(cols, wo, false, seed + 2, binades(4)), [cols], wo);
          const attrs = { eps, hasWeight: hasW };
          const inputs = backward ? [x, dy, ...(hasW ? [w] : [])] : [x, ...(hasW ? [w] : [])];
          const out = { shape, dtype: 'f32' as const };
          const kernel = rowKernels[threads]!.get(backward ? OPS.rmsNormBackward : OPS.rmsNorm)!;
          configureInPlace({ enabled: inPlace });
          configureArena({ enabled: dArena });
          let got: Float32Array;
          try {
            got = kernel(inputs, attrs, out) as Float32Array;
          } finally {
            configureInPlace({ enabled: true });
            configureArena({ enabled: true });
          }
          const what = `${backward ? 'rmsNormBackward' : 'rmsNorm'} [${shape}] offsets ${xo}/${yo}/${wo} arena ${xArena}/${yArena}/${dArena} weight ${hasW} eps ${eps} threads ${threads + 1} in place ${inPlace}`;
          expect(arenaBlock(got) !== null || !dArena || n < 1024, what).toBe(true);
          expectIdentical(got, (backward ? rmsNormBackwardKernel : rmsNormKernel)(inputs, attrs, out) as Float32Array, what, 'rms-norm.ts');
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('a job on arena blocks splits with the worker and runs the calling thread\'s share in place, bit for bit', () => {
    for (const backward of [false, true]) {
      const shape = [64, 130];
      const n = 64 * 130;
      const x = operandView(arenaOperand(n, 0, true, 11, binades(8)), shape, 0);
      const dy = operandView(arenaOperand(n, 3, true, 12, binades(8)), shape, 3);
      const w = operandView(arenaOperand(130, 0, false, 13, binades(4)), [130], 0);
      const inputs = backward ? [x, dy, w] : [x, w];
      const attrs = { eps: 1e-5, hasWeight: true };
      const out = { shape, dtype: 'f32' as const };
      const jobs = gemm.jobsPerThread()[1] ?? 0;
      const shared = inPlaceRowRuns();
      const got = rowKernels[1]!.get(backward ? OPS.rmsNormBackward : OPS.rmsNorm)!(inputs, attrs, out) as Float32Array;
      const what = backward ? 'rmsNormBackward' : 'rmsNorm';
      expect(gemm.jobsPerThread()[1] ?? 0, `${what}: the worker ran a share`).toBeGreaterThan(jobs);
      expect(inPlaceRowRuns(), `${what}: the calling thread ran in place`).toBeGreaterThan(shared);
      expectIdentical(got, (backward ? rmsNormBackwardKernel : rmsNormKernel)(inputs, attrs, out) as Float32Array, what, 'rms-norm.ts');
    }
  });

  test('strided and f64 operands keep the TypeScript kernel', () => {
    const seen: string[] = [];
    const counting = (op: OpDef): CpuKernel => (inputs, attrs, out) => {
      seen.push(op.name);
      return (CPU_KERNELS.get(op) as CpuKernel)(inputs, attrs, out);
    };
    const kernels = new Map(rowTaskKernels({ gemm: null, minElements: 0, adaptive: false, fallback: counting }));
    const x = operandView(arenaOperand(12, 0, false, 7, binades(8)), [3, 4], 0);
    const transposed: TensorView = { ...x, shape: [4, 3], strides: [1, 4] };
    const f64: TensorView = { ...x, storage: { data: Float64Array.from(x.storage.data as Float32Array) } as TensorView['storage'], dtype: 'f64' };
    kernels.get(OPS.rmsNorm)!([transposed], { eps: 1e-5, hasWeight: false }, { shape: [4, 3], dtype: 'f32' });
    kernels.get(OPS.rmsNorm)!([f64], { eps: 1e-5, hasWeight: false }, { shape: [3, 4], dtype: 'f64' });
    kernels.get(OPS.rmsNormBackward)!([x, { ...x, strides: [1, 3] }], { eps: 1e-5, hasWeight: false }, { shape: [3, 4], dtype: 'f32' });
    expect(seen).toEqual(['rmsNorm', 'rmsNorm', 'rmsNormBackward']);
  });
});
