// The row kernels (GELU tanh form, layerNorm, cross-entropy losses and logits gradient) held to the
// plain TypeScript kernels (gelu.ts, layer-norm.ts, cross-entropy.ts on a `wasm: false` backend):
// on the WebAssembly SIMD module (row-tasks.ts's simdRowsTask, the default; a worker compiles its own
// instance) and as scalar tasks (`simd: false`), each on 1 and 2 threads with the split threshold at
// 0: the 2-thread scalar tasks split even a 2-element job, so the workers' copies, offsets and
// copy-out are exercised; the SIMD tasks split only where their operands are arena blocks, which the
// last describe below sets up (the shapes here stay below the arena's smallest block); over odd sizes
// and every layout (strided ones take the general kernels, dense and offset ones the fast paths).
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef, Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { BACKOFF_JOBS, rowTaskKernels, SplitGauge } from '../src/kernels/row-tasks-threaded.js';
import { WASM_SOFTMAX_KERNELS } from '../src/kernels/softmax-wasm.js';
import { CPU_KERNELS } from '../src/registry.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { SIMD_TASK_LAYOUT } from '../src/wasm/row-tasks.js';
import { REGIONS } from '../src/wasm/wasm-elementwise.js';
import { ARENA_MIN_ELEMENTS, configureArena } from '../src/wasm/f32-arena.js';
import { expectClose, layoutArb, logical, makeView, numRuns, seedArb, type Layout } from './views.js';

const REFERENCE = 'cpu-rows-reference';
T.registerBackend(createCpuBackend({ name: REFERENCE, wasm: false }));
const fallbacks = new Map<OpDef, unknown>([...CPU_KERNELS, ...WASM_SOFTMAX_KERNELS]);
const engines = [1, 2].map((threads) => new WasmGemm(threads, 0));
const devices = engines.flatMap((engine) => [[engine, false] as const, [engine, true] as const]).map(([engine, simd]) => {
  const name = `cpu-rows-${simd ? 'simd' : 'scalar'}-${engine.threads}`;
  const kernels = new Map(rowTaskKernels({ gemm: () => engine, minElements: 0, fallback: (op) => fallbacks.get(op) as never, adaptive: false, simd, simdMinElements: 0 }));
  T.registerBackend(createCpuBackend({ name, threads: engine.threads, kernels }));
  return name;
});
afterAll(() => engines.forEach((e) => e.close()));

const on = (t: Tensor, device: string): Tensor => T.tensor(logical(t), { shape: [...t.shape], dtype: t.dtype, device });

/** Runs `body` with `device` as the default backend, so makeView lays its tensors out there. */
function onDevice<R>(device: string, body: () => R): R {
  const previous = T.getBackend().name;
  T.setBackend(device);
  try {
    return body();
  } finally {
    T.setBackend(previous);
  }
}

/** The op's result on each split backend (inputs made there, in their layouts) held to the reference's. */
function check(run: (...xs: Tensor[]) => Tensor, make: () => Tensor[], rtol: number, atol: number, what: string): void {
  const want = onDevice(REFERENCE, () => logical(run(...make())));
  for (const device of devices) {
    const got = onDevice(device, () => run(...make()));
    expect(got.device).toBe(device);
    expectClose(logical(got), want, rtol, atol, `${what} on ${device}`);
  }
}

// Last dims from 1 to 37 (odd ones included), up to 3 leading dims.
const shapeArb = fc.tuple(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 3 }), fc.integer({ min: 1, max: 37 })).map(([lead, last]) => [...lead, last]);
const denseishArb = fc.constantFrom<Layout>('dense', 'offset', 'dense', 'offset', 'transposed', 'expanded');
const tol: [number, number] = [2e-5, 2e-6];

describe('row tasks split across threads equal the plain TypeScript kernels', () => {
  test('gelu and geluBackward (tanh form)', () => {
    fc.assert(
      fc.property(shapeArb, denseishArb, seedArb, layoutArb, seedArb, (shape, lx, sx, lg, sg) => {
        const x = () => makeView(shape, lx, 'f32', sx);
        const g = () => makeView(shape, lg as Layout, 'f32', sg);
        check((v) => T.gelu(v, { approximate: 'tanh' }), () => [x()], ...tol, `gelu ${lx}[${shape}]`);
        check((v, d) => T.apply(T.OPS.geluBackward, [v, d], { approximate: 'tanh' }), () => [x(), g()], ...tol, `geluBackward ${lx}/${lg}[${shape}]`);
      }),
      { numRuns: numRuns() },
    );
  });

  test('layerNorm with and without weight and bias, and its input gradient', () => {
    fc.assert(
      fc.property(shapeArb, denseishArb, seedArb, denseishArb, seedArb, fc.boolean(), fc.boolean(), fc.constantFrom(1e-5, 1e-2), (shape, lx, sx, ldy, sdy, hasW, hasB, eps) => {
        const d = shape[shape.length - 1]!;
        const x = () => makeView(shape, lx, 'f32', sx);
        const dy = () => makeView(shape, ldy, 'f32', sdy);
        const w = () => makeView([d], 'dense', 'f32', sx + 1);
        const b = () => makeView([d], 'offset', 'f32', sx + 2);
        const inputs = () => [x(), ...(hasW ? [w()] : []), ...(hasB ? [b()] : [])];
        // Constant rows (d = 1) amplify rounding by 1/sqrt(eps); the TypeScript kernel and the task both centre in double.
        check((...xs) => T.layerNorm(xs[0]!, hasW ? xs[1] : undefined, hasB ? xs[hasW ? 2 : 1] : undefined, eps), inputs, 1e-5, 1e-5, `layerNorm ${lx}[${shape}] w ${hasW} b ${hasB}`);
        check((...xs) => T.apply(T.OPS.layerNormBackward, xs, { eps, hasWeight: hasW }), () => (hasW ? [x(), dy(), w()] : [x(), dy()]), 1e-4, 1e-4, `layerNormBackward ${lx}/${ldy}[${shape}] w ${hasW}`);
      }),
      { numRuns: numRuns() },
    );
  });

  test('crossEntropyBackward with ignored targets, label smoothing and a broadcast gradient', () => {
    const caseArb = shapeArb.chain((shape) => {
      const rows = shape.slice(0, -1);
      const n = rows.reduce((a, b) => a * b, 1);
      const c = shape[shape.length - 1]!;
      return fc.tuple(
        fc.constant(shape),
        fc.array(fc.oneof(fc.integer({ min: 0, max: c - 1 }), fc.constant(-100)), { minLength: n, maxLength: n }),
        denseishArb,
        seedArb,
        fc.constantFrom<Layout>('dense', 'expanded', 'transposed'),
        seedArb,
        fc.constantFrom(0, 0.1),
      );
    });
    fc.assert(
      fc.property(caseArb, ([shape, targetValues, lx, sx, lg, sg, smoothing]) => {
        const make = () => [makeView(shape, lx, 'f32', sx), T.tensor(targetValues, { shape: shape.slice(0, -1), dtype: 'i32' }), makeView(shape.slice(0, -1), lg, 'f32', sg)];
        const attrs = { ignoreIndex: -100, labelSmoothing: smoothing };
        check((a, t, gg) => T.apply(T.OPS.crossEntropyBackward, [a, t, gg], attrs), make, ...tol, `crossEntropyBackward ${lx}[${shape}] g ${lg} s ${smoothing}`);
        check((a, t) => T.apply(T.OPS.crossEntropyLosses, [a, t], attrs), make, ...tol, `crossEntropyLosses ${lx}[${shape}] s ${smoothing}`);
      }),
      { numRuns: numRuns() },
    );
  });

  test('special values: NaN, infinities, huge logits and all-ignored rows', () => {
    const x = () => T.tensor([[NaN, 1, 2, 3], [Infinity, -Infinity, 0, 1], [1e30, -1e30, 0, 5], [300, -300, 90, -90]], { dtype: 'f32' });
    check((v) => T.gelu(v, { approximate: 'tanh' }), () => [x()], 1e-6, 0, 'gelu edges');
    check((v, d) => T.apply(T.OPS.geluBackward, [v, d], { approximate: 'tanh' }), () => [x(), T.ones([4, 4])], 1e-6, 0, 'geluBackward edges');
    const targets = () => T.tensor([0, -100, 3, 1], { dtype: 'i32' });
    check((a, t, gg) => T.apply(T.OPS.crossEntropyBackward, [a, t, gg], { ignoreIndex: -100, labelSmoothing: 0 }), () => [x(), targets(), T.ones([4])], 1e-6, 0, 'crossEntropyBackward edges');
    check((a, t) => T.apply(T.OPS.crossEntropyLosses, [a, t], { ignoreIndex: -100, labelSmoothing: 0 }), () => [x(), targets()], 1e-6, 0, 'crossEntropyLosses edges');
  });

  test('an out-of-range target raises the usual RangeError on every backend', () => {
    const logits = T.ones([3, 5]);
    const targets = T.tensor([0, 7, 1], { dtype: 'i32' });
    for (const device of devices) {
      expect(() => T.apply(T.OPS.crossEntropyBackward, [on(logits, device), on(targets, device), T.ones([3], { device })], { ignoreIndex: -100, labelSmoothing: 0 }).dataSync()).toThrow(/crossEntropy/);
      expect(() => T.apply(T.OPS.crossEntropyLosses, [on(logits, device), on(targets, device)], { ignoreIndex: -100, labelSmoothing: 0 }).dataSync()).toThrow(/crossEntropy/);
    }
  });

  test('rows longer than one 16384-float chunk of the SIMD module (a GPT-2 vocabulary: 50257 logits)', () => {
    const c = 50257;
    const make = () => [makeView([3, c], 'offset', 'f32', 11), T.tensor([5, -100, c - 1], { dtype: 'i32' }), makeView([3], 'dense', 'f32', 12)];
    for (const s of [0, 0.1]) {
      const attrs = { ignoreIndex: -100, labelSmoothing: s };
      check((a, t, gg) => T.apply(T.OPS.crossEntropyBackward, [a, t, gg], attrs), make, ...tol, `crossEntropyBackward [3, ${c}] s ${s}`);
      check((a, t) => T.apply(T.OPS.crossEntropyLosses, [a, t], attrs), make, ...tol, `crossEntropyLosses [3, ${c}] s ${s}`);
    }
    const x = () => makeView([2, 20000], 'dense', 'f32', 13);
    check((v) => T.layerNorm(v, undefined, undefined, 1e-5), () => [x()], 1e-5, 1e-5, 'layerNorm [2, 20000] (the general kernel)');
  });

  test('empty tensors (no rows) give empty results on every backend', () => {
    const ce = { ignoreIndex: -100, labelSmoothing: 0 };
    const x = () => T.zeros([0, 5]);
    check((v) => T.gelu(v, { approximate: 'tanh' }), () => [x()], 0, 0, 'gelu [0, 5]');
    check((v, d) => T.apply(T.OPS.geluBackward, [v, d], { approximate: 'tanh' }), () => [x(), x()], 0, 0, 'geluBackward [0, 5]');
    check((v, w, b) => T.layerNorm(v, w, b, 1e-5), () => [x(), T.ones([5]), T.zeros([5])], 0, 0, 'layerNorm [0, 5]');
    check((v, d, w) => T.apply(T.OPS.layerNormBackward, [v, d, w], { eps: 1e-5, hasWeight: true }), () => [x(), x(), T.ones([5])], 0, 0, 'layerNormBackward [0, 5]');
    check((a, t) => T.apply(T.OPS.crossEntropyLosses, [a, t], ce), () => [x(), T.zeros([0], { dtype: 'i32' })], 0, 0, 'crossEntropyLosses [0, 5]');
    check((a, t, g) => T.apply(T.OPS.crossEntropyBackward, [a, t, g], ce), () => [x(), T.zeros([0], { dtype: 'i32' }), T.zeros([0])], 0, 0, 'crossEntropyBackward [0, 5]');
  });

  test("simdRowsTask's hardcoded scratch layout is the SIMD module's", () => {
    expect(SIMD_TASK_LAYOUT.CHUNK).toBe(REGIONS.CHUNK);
    expect(REGIONS.B).toBe(SIMD_TASK_LAYOUT.REGION);
    expect(REGIONS.W).toBe(4 * SIMD_TASK_LAYOUT.REGION);
    expect(REGIONS.BIAS).toBe(5 * SIMD_TASK_LAYOUT.REGION);
  });

  test('the 2-thread engine really split the jobs (its worker ran slices: the scalar tasks split every job)', () => {
    const [caller, worker] = engines[1]!.jobsPerThread();
    expect(caller).toBeGreaterThan(0);
    expect(worker).toBeGreaterThan(0);
  });
});

/**
 * The SIMD split in place: operands that are kernel results (x + 0) of 1024 elements or more are
 * blocks of the arena once its smallest block is 0 elements, so the 2-thread SIMD backend's workers
 * read them and write the result where they are (the rows' targets and gradients are copied); held to
 * the reference like the rest.
 */
describe('SIMD row kernels split in place over arena blocks', () => {
  const simd2 = 'cpu-rows-simd-2';
  test('gelu, layerNorm and cross-entropy with arena operands, split across 2 threads', () => {
    configureArena({ minElements: 0 });
    const before = engines[1]!.jobsPerThread()[1] ?? 0;
    try {
      fc.assert(
        fc.property(shapeArb, seedArb, seedArb, fc.boolean(), fc.constantFrom(0, 0.1), (small, sx, sg, hasW, smoothing) => {
          // At least 1024 elements: smaller results are plain arrays (f32-array-pool.ts).
          const shape = [Math.ceil(1024 / small.reduce((a, b) => a * b, 1)), ...small];
          const d = shape[shape.length - 1]!;
          const rows = shape.slice(0, -1);
          const n = rows.reduce((a, b) => a * b, 1);
          // On the device, x + 0 is a kernel result: an arena block there, a plain array on the reference.
          const block = (t: Tensor): Tensor => T.add(t, 0);
          const x = () => block(makeView(shape, 'dense', 'f32', sx));
          const g = () => block(makeView(shape, 'dense', 'f32', sg));
          const w = () => makeView([d], 'dense', 'f32', sx + 1);
          const targets = () => T.tensor(Array.from({ length: n }, (_, i) => (i * 7) % d), { shape: rows, dtype: 'i32' });
          const rowG = () => block(makeView(rows, 'dense', 'f32', sg + 1));
          const ce = { ignoreIndex: -100, labelSmoothing: smoothing };
          const cases: [(...xs: Tensor[]) => Tensor, () => Tensor[], number, number, string][] = [
            [(v) => T.gelu(v, { approximate: 'tanh' }), () => [x()], ...tol, 'gelu'],
            [(v, dd) => T.apply(T.OPS.geluBackward, [v, dd], { approximate: 'tanh' }), () => [x(), g()], ...tol, 'geluBackward'],
            [(v, ww) => T.layerNorm(v, hasW ? ww : undefined, undefined, 1e-5), () => [x(), w()], 1e-5, 1e-5, 'layerNorm'],
            [(v, dy, ww) => T.apply(T.OPS.layerNormBackward, hasW ? [v, dy, ww!] : [v, dy], { eps: 1e-5, hasWeight: hasW }), () => [x(), g(), w()], 1e-4, 1e-4, 'layerNormBackward'],
            [(a, t, gg) => T.apply(T.OPS.crossEntropyBackward, [a, t, gg], ce), () => [x(), targets(), rowG()], ...tol, 'crossEntropyBackward'],
            [(a, t) => T.apply(T.OPS.crossEntropyLosses, [a, t], ce), () => [x(), targets()], ...tol, 'crossEntropyLosses'],
          ];
          for (const [run, make, rtol, atol, what] of cases) {
            const want = onDevice(REFERENCE, () => logical(run(...make())));
            const got = onDevice(simd2, () => run(...make()));
            expectClose(logical(got), want, rtol, atol, `${what} [${shape}] in place`);
          }
        }),
        { numRuns: Math.max(10, Math.floor(numRuns() / 4)) },
      );
    } finally {
      configureArena({ minElements: ARENA_MIN_ELEMENTS });
    }
    // The worker ran SIMD slices on the arena blocks.
    expect(engines[1]!.jobsPerThread()[1] ?? 0).toBeGreaterThan(before);
  });
});

/** f32 and i32 are the only dtypes the tasks see; f64 goes to the general kernels (checked once here). */
test('f64 operands take the general kernels on the split backends', () => {
  check((v) => T.gelu(v, { approximate: 'tanh' }), () => [makeView([3, 9], 'dense', 'f64' as DType, 7)], 1e-12, 1e-13, 'gelu f64');
});

test('the split gauge keeps jobs on the calling thread for a while after the workers came late, then tries again', () => {
  const gauge = new SplitGauge();
  expect(gauge.split()).toBe(true);
  gauge.record(2, 0.5); // the workers finished soon after the caller: keep splitting
  expect(gauge.split()).toBe(true);
  gauge.record(1, 3); // the caller waited longer than its own share took
  for (let i = 0; i < BACKOFF_JOBS; i++) expect(gauge.split()).toBe(false);
  expect(gauge.split()).toBe(true);
});
