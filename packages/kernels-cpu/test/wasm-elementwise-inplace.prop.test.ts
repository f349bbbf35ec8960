// The shared-memory instance of the SIMD elementwise module (src/wasm/wasm-elementwise.ts), which
// reads and writes arena blocks in place, held bit for bit to the copying path and to the TypeScript
// loops: add/sub/mul/div (dense, scalar on either side, a row broadcast) and AdamW, with operands and
// results in the arena or plain arrays (mixed), at element offsets, and lengths that are not whole
// vectors (the last 0-3 elements run in JavaScript); and the calling thread's share of the SIMD row
// kernels (GELU, layerNorm, rmsNorm, cross-entropy) held to their copying path, alone and split with a worker.
// Run under TESSERA_GEMM_VARIANT=simd128 too for the other build.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OPS, type AdamWResolved, type OpDef, type TensorView } from '@tessera/tensor';
import type { CpuKernel } from '../src/cpu-kernel.js';
import { rowTaskKernels } from '../src/kernels/row-tasks-threaded.js';
import { CPU_KERNELS } from '../src/registry.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { adamwUpdateArrays } from '../src/adamw-update.js';
import { BINARY_KERNELS_TS, WASM_BINARY_OPS } from '../src/kernels/binary.js';
import { ARENA_BASE, ARENA_MIN_ELEMENTS, SCRATCH_END, SHARED_ROW_SLOTS, agentMemory, arenaBlock, configureArena } from '../src/wasm/f32-arena.js';
import { WASM_MIN_ELEMENTS, configureInPlace, inPlaceRowRuns, inPlaceRuns, wasmBinaryF32 } from '../src/wasm/wasm-elementwise.js';
import { SIMD_TASK_LAYOUT } from '../src/wasm/row-tasks.js';
import { SHARED_CONST_BYTES, elementwiseWat } from '../wasm/elementwise-wat.js';
import { arenaOperand, operandView, uniformValue } from './arena-operands.js';
import { expectIdentical } from './identical-arrays.js';
import { numRuns, rng, seedArb } from './views.js';

beforeAll(() => {
  agentMemory();
  configureArena({ enabled: true, minElements: 1 });
});
const gemm = new WasmGemm(2, 0);
/** The row kernels on the calling thread alone and split with a worker at any size. */
const rowKernels = [null, gemm].map((engine) => new Map(rowTaskKernels({ gemm: engine && (() => engine), minElements: 0, simdMinElements: 0, adaptive: false, fallback: (op) => CPU_KERNELS.get(op) as CpuKernel })));
afterAll(() => {
  gemm.close();
  configureArena({ enabled: true, minElements: ARENA_MIN_ELEMENTS });
  configureInPlace({ enabled: true });
});

/** Values in [0.01, 4.01): divisors and AdamW's v. */
const positiveValue = (next: () => number): number => 0.01 + next() * 4;

/** `fn()` with the in-place instance on or off, and result arrays from the arena or plain. */
function run<R>(inPlace: boolean, arenaResult: boolean, fn: () => R): R {
  configureInPlace({ enabled: inPlace });
  configureArena({ enabled: arenaResult });
  try {
    return fn();
  } finally {
    configureInPlace({ enabled: true });
    configureArena({ enabled: true });
  }
}

describe('the elementwise module in place on the shared memory', () => {
  test('its constant table and the norm rows sit in the three pages below the arena, past every engine scratch', () => {
    expect(SHARED_CONST_BYTES).toBe(SCRATCH_END);
    expect(SCRATCH_END).toBe(ARENA_BASE - 3 * 65536);
    for (const variant of ['simd128', 'fma'] as const) {
      const data = /\(data \(i32\.const (\d+)\) "([^"]*)"\)/.exec(elementwiseWat(variant, 'shared'))!;
      expect(Number(data[1])).toBe(SHARED_CONST_BYTES);
      // \xx per byte: the table ends before the weight row's slot.
      expect(SHARED_CONST_BYTES + data[2]!.length / 3).toBeLessThanOrEqual(SHARED_ROW_SLOTS.w);
    }
    expect(SHARED_ROW_SLOTS.bias - SHARED_ROW_SLOTS.w).toBe(4 * SIMD_TASK_LAYOUT.CHUNK);
    expect(ARENA_BASE - SHARED_ROW_SLOTS.bias).toBe(4 * SIMD_TASK_LAYOUT.CHUNK);
  });

  const flags = fc.tuple(fc.boolean(), fc.boolean(), fc.boolean());
  test('add/sub/mul/div give the copying path and the TypeScript loop bit for bit (arena and plain operands mixed, offsets, odd lengths, scalar and row broadcasts)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...WASM_BINARY_OPS.entries()),
        fc.constantFrom('vv', 'vs', 'sv', 'row'),
        fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 64, max: 700 })),
        fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })),
        flags,
        seedArb,
        ([op, name], pattern, [rows, cols], [xo, yo], [xArena, yArena, dArena], seed) => {
          const shape = [Math.max(rows, Math.ceil(WASM_MIN_ELEMENTS / cols)), cols];
          const n = shape[0]! * cols;
          const aShape = pattern === 'sv' ? [] : shape;
          const bShape = pattern === 'vs' ? [] : pattern === 'row' ? [cols] : shape;
          const count = (s: number[]) => s.reduce((p, q) => p * q, 1);
          const a = operandView(arenaOperand(count(aShape), xo, xArena, seed), aShape, xo);
          const b = operandView(arenaOperand(count(bShape), yo, yArena, seed + 1, name === 'div' ? positiveValue : uniformValue), bShape, yo);
          const before = inPlaceRuns();
          const inPlace = run(true, dArena, () => wasmBinaryF32(name, a, b, shape))!;
          const what = `${name} ${pattern} [${shape}] offsets ${xo}/${yo} arena ${xArena}/${yArena}/${dArena}`;
          // In place exactly when the result and every large operand are blocks (a row is copied in).
          const expectInPlace = dArena && (pattern === 'sv' ? true : xArena) && (pattern === 'vs' || pattern === 'row' ? true : yArena);
          expect(inPlaceRuns() - before, what).toBe(expectInPlace ? 1 : 0);
          expect(inPlace.length).toBe(n);
          expect(arenaBlock(inPlace) !== null, what).toBe(dArena);
          expectIdentical(inPlace, run(false, dArena, () => wasmBinaryF32(name, a, b, shape))!, `${what} (copying path)`);
          expectIdentical(inPlace, BINARY_KERNELS_TS.get(op)!([a, b], undefined, { shape, dtype: 'f32' }), `${what} (TypeScript loop)`);
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('AdamW gives the copying path and the TypeScript loop bit for bit (arena and plain operands mixed, offsets, odd lengths)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40000 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        fc.record({ lr: fc.double({ min: 1e-5, max: 0.1, noNaN: true }), weightDecay: fc.constantFrom(0, 0.01), step: fc.integer({ min: 1, max: 100 }) }),
        seedArb,
        (n, operands, dArena, { lr, weightDecay, step }, seed) => {
          const [p, g, m, v] = operands.map(([arena, offset], k) => operandView(arenaOperand(n, offset, arena, seed + k, k === 3 ? positiveValue : uniformValue), [n], offset)) as [TensorView, TensorView, TensorView, TensorView];
          const h: AdamWResolved = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, bc1: 1 - 0.9 ** step, bc2: 1 - 0.999 ** step } as AdamWResolved;
          const before = inPlaceRuns();
          const got = run(true, dArena, () => adamwUpdateArrays(p, g, m, v, h, true))!;
          const what = `n ${n} operands ${JSON.stringify(operands)} result arena ${dArena}`;
          // Results below 1024 elements are plain arrays (f32-array-pool.ts), so they take the copying path.
          const dBlocks = dArena && n >= 1024;
          expect(arenaBlock(got.param as Float32Array) !== null, what).toBe(dBlocks);
          expect(inPlaceRuns() - before, what).toBe(dBlocks && operands.every(([arena]) => arena) ? 1 : 0);
          const copied = run(false, dArena, () => adamwUpdateArrays(p, g, m, v, h, true))!;
          const loop = run(false, false, () => adamwUpdateArrays(p, g, m, v, h, false))!;
          for (const k of ['param', 'm', 'v'] as const) {
            expectIdentical(got[k], copied[k], `${k} ${what} (copying path)`);
            expectIdentical(got[k], loop[k], `${k} ${what} (TypeScript loop)`);
          }
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('the SIMD row kernels (GELU, layerNorm, rmsNorm, cross-entropy) give their copying path bit for bit (arena and plain operands mixed, offsets, odd sizes, 1 and 2 threads)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ROW_KERNELS),
        fc.tuple(fc.integer({ min: 1, max: 24 }), fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(64, 256, 1024))),
        fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })),
        flags,
        fc.tuple(fc.boolean(), fc.boolean(), fc.constantFrom(0, 1)),
        seedArb,
        (name, [rows, cols], [xo, yo], [xArena, yArena, dArena], [hasW, hasB, threads], seed) => {
          const { kernel, inputs, attrs, out } = rowCase(name, rows, cols, xo, yo, xArena, yArena, hasW, hasB, threads, seed);
          const what = `${name} [${rows},${cols}] offsets ${xo}/${yo} arena ${xArena}/${yArena}/${dArena} weight ${hasW} bias ${hasB} threads ${threads + 1}`;
          const got = run(true, dArena, () => kernel(inputs, attrs, out)) as Float32Array;
          expectIdentical(got, run(false, dArena, () => kernel(inputs, attrs, out)) as Float32Array, `${what} (copying path)`);
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('on arena blocks, each SIMD row kernel splits with the worker and runs the calling thread\'s share in place, bit for bit the copying path', () => {
    for (const name of ROW_KERNELS) {
      const { kernel, inputs, attrs, out } = rowCase(name, 24, 256, 0, 2, true, true, true, true, 1, 31);
      const jobs = gemm.jobsPerThread()[1] ?? 0;
      const shared = inPlaceRowRuns();
      const got = run(true, true, () => kernel(inputs, attrs, out)) as Float32Array;
      expect(gemm.jobsPerThread()[1] ?? 0, `${name}: the worker ran a share`).toBeGreaterThan(jobs);
      expect(inPlaceRowRuns(), `${name}: the calling thread ran in place`).toBeGreaterThan(shared);
      expectIdentical(got, run(false, true, () => kernel(inputs, attrs, out)) as Float32Array, `${name} (copying path)`);
    }
  });
});

const ROW_KERNELS = ['gelu', 'geluBackward', 'layerNorm', 'layerNormBackward', 'rmsNorm', 'rmsNormBackward', 'crossEntropyBackward', 'crossEntropyLosses'] as const;

/** One row kernel's call: `rows` × `cols` x and y (dy) in the arena or plain, weight, bias, targets (10% ignored) and the loss gradient. */
function rowCase(name: (typeof ROW_KERNELS)[number], rows: number, cols: number, xo: number, yo: number, xArena: boolean, yArena: boolean, hasW: boolean, hasB: boolean, threads: number, seed: number): { kernel: CpuKernel; inputs: TensorView[]; attrs: unknown; out: { shape: number[]; dtype: 'f32' } } {
  const shape = [rows, cols];
  const n = rows * cols;
  const x = operandView(arenaOperand(n, xo, xArena, seed), shape, xo);
  const y = operandView(arenaOperand(n, yo, yArena, seed + 1), shape, yo);
  const w = operandView(arenaOperand(cols, 1, false, seed + 2), [cols], 1);
  const b = operandView(arenaOperand(cols, 0, false, seed + 3), [cols], 0);
  const next = rng(seed + 4);
  const targets: TensorView = { storage: { data: Int32Array.from({ length: rows }, () => (next() < 0.1 ? -100 : Math.floor(next() * cols))) } as TensorView['storage'], shape: [rows], strides: [1], offset: 0, dtype: 'i32' };
  const g = operandView(arenaOperand(rows, 0, false, seed + 5), [rows], 0);
  const ce = { ignoreIndex: -100, labelSmoothing: hasB ? 0.1 : 0 };
  const [inputs, attrs, out] = ({
    gelu: [[x], { approximate: 'tanh' }, shape],
    geluBackward: [[x, y], { approximate: 'tanh' }, shape],
    layerNorm: [[x, ...(hasW ? [w] : []), ...(hasB ? [b] : [])], { eps: 1e-5, hasWeight: hasW, hasBias: hasB }, shape],
    layerNormBackward: [[x, y, ...(hasW ? [w] : [])], { eps: 1e-5, hasWeight: hasW }, shape],
    rmsNorm: [[x, ...(hasW ? [w] : [])], { eps: 1e-5, hasWeight: hasW }, shape],
    rmsNormBackward: [[x, y, ...(hasW ? [w] : [])], { eps: 1e-5, hasWeight: hasW }, shape],
    crossEntropyBackward: [[x, targets, g], ce, shape],
    crossEntropyLosses: [[x, targets], ce, [rows]],
  } as Record<string, [TensorView[], unknown, number[]]>)[name]!;
  const kernel = rowKernels[threads]!.get((OPS as unknown as Record<string, OpDef>)[name]!)!;
  return { kernel, inputs, attrs, out: { shape: out, dtype: 'f32' } };
}
