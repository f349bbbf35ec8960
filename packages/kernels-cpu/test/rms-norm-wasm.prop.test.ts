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
import { ARENA_MIN_ELEMENTS, agentMemory, arenaBlock, arenaTake, configureArena } from '../src/wasm/f32-arena.js';
import { configureInPlace, inPlaceRowRuns } from '../src/wasm/wasm-elementwise.js';
import { numRuns, rng, seedArb } from './views.js';

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

/** `count` values from `seed` after `offset` leading elements, in an arena block or a plain array, spread over `scale` binades. */
function operand(count: number, offset: number, arena: boolean, seed: number, scale: number): Float32Array {
  const next = rng(seed);
  const data = arena ? arenaTake(offset + count) : new Float32Array(offset + count);
  if (data === null) throw new Error('the test expects the arena to hand out a block');
  for (let i = 0; i < data.length; i++) data[i] = (next() * 8 - 4) * 2 ** Math.floor((next() - 0.5) * scale);
  return data;
}

const view = (data: Float32Array, shape: number[], offset: number): TensorView => {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
  return { storage: { data } as TensorView['storage'], shape, strides, offset, dtype: 'f32' };
};

function expectIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`${what}: element ${i} is ${actual[i]} but rms-norm.ts gives ${expected[i]}`);
  }
}

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
          const x = view(operand(n, xo, xArena, seed, scale), shape, xo);
          const dy = view(operand(n, yo, yArena, seed + 1, scale), shape, yo);
          const w = view(operand(cols, wo, false, seed + 2, 4), [cols], wo);
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
          expectIdentical(got, (backward ? rmsNormBackwardKernel : rmsNormKernel)(inputs, attrs, out) as Float32Array, what);
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('a job on arena blocks splits with the worker and runs the calling thread\'s share in place, bit for bit', () => {
    for (const backward of [false, true]) {
      const shape = [64, 130];
      const n = 64 * 130;
      const x = view(operand(n, 0, true, 11, 8), shape, 0);
      const dy = view(operand(n, 3, true, 12, 8), shape, 3);
      const w = view(operand(130, 0, false, 13, 4), [130], 0);
      const inputs = backward ? [x, dy, w] : [x, w];
      const attrs = { eps: 1e-5, hasWeight: true };
      const out = { shape, dtype: 'f32' as const };
      const jobs = gemm.jobsPerThread()[1] ?? 0;
      const shared = inPlaceRowRuns();
      const got = rowKernels[1]!.get(backward ? OPS.rmsNormBackward : OPS.rmsNorm)!(inputs, attrs, out) as Float32Array;
      const what = backward ? 'rmsNormBackward' : 'rmsNorm';
      expect(gemm.jobsPerThread()[1] ?? 0, `${what}: the worker ran a share`).toBeGreaterThan(jobs);
      expect(inPlaceRowRuns(), `${what}: the calling thread ran in place`).toBeGreaterThan(shared);
      expectIdentical(got, (backward ? rmsNormBackwardKernel : rmsNormKernel)(inputs, attrs, out) as Float32Array, what);
    }
  });

  test('strided and f64 operands keep the TypeScript kernel', () => {
    const seen: string[] = [];
    const counting = (op: OpDef): CpuKernel => (inputs, attrs, out) => {
      seen.push(op.name);
      return (CPU_KERNELS.get(op) as CpuKernel)(inputs, attrs, out);
    };
    const kernels = new Map(rowTaskKernels({ gemm: null, minElements: 0, adaptive: false, fallback: counting }));
    const x = view(operand(12, 0, false, 7, 8), [3, 4], 0);
    const transposed: TensorView = { ...x, shape: [4, 3], strides: [1, 4] };
    const f64: TensorView = { ...x, storage: { data: Float64Array.from(x.storage.data as Float32Array) } as TensorView['storage'], dtype: 'f64' };
    kernels.get(OPS.rmsNorm)!([transposed], { eps: 1e-5, hasWeight: false }, { shape: [4, 3], dtype: 'f32' });
    kernels.get(OPS.rmsNorm)!([f64], { eps: 1e-5, hasWeight: false }, { shape: [3, 4], dtype: 'f64' });
    kernels.get(OPS.rmsNormBackward)!([x, { ...x, strides: [1, 3] }], { eps: 1e-5, hasWeight: false }, { shape: [3, 4], dtype: 'f32' });
    expect(seen).toEqual(['rmsNorm', 'rmsNorm', 'rmsNormBackward']);
  });
});
