import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { cpuGemmVariant, cpuThreadJobs, createCpuBackend, matmulReference, whenCpuThreadsReady } from '../src/index.js';
import { wasmMatmulKernel } from '../src/kernels/matmul-wasm.js';
import { GEMM_WASM_BASE64 } from '../src/wasm/gemm-bytes.js';
import { GEMM_FMA_WASM_BASE64 } from '../src/wasm/gemm-fma-bytes.js';
import { GEMM_TILES, GEMM_VARIANT_ENV, gemmModule, gemmVariant, relaxedSimdAvailable } from '../src/wasm/gemm-module.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { assembleGemm } from '../wasm/assemble.js';
import { GEMM_SHAPES } from '../wasm/gemm-wat.js';
import { VARIANTS, batchPairArb, engineArb, gemmEngines } from './gemm-engines.js';
import { LAYOUTS, makeView, numRuns, seedArb } from './views.js';

const ENGINES = gemmEngines();
const KC = GEMM_TILES.fma.kc;

/** The f32 error bound of a k-term sum: each element within (k + 2)·2^-23·Σ|a||b| of the exact product. */
function expectWithinF32Bound(actual: ArrayLike<number>, a: Tensor, b: Tensor, what: string): void {
  const out = { shape: T.broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2)).concat([a.shape.at(-2)!, b.shape.at(-1)!]), dtype: 'f64' as const };
  const exact = matmulReference([a.cast('f64'), b.cast('f64')], undefined, out);
  const magnitude = matmulReference([a.abs().cast('f64'), b.abs().cast('f64')], undefined, out);
  const k = a.shape.at(-1)!;
  for (let i = 0; i < exact.length; i++) {
    const bound = (k + 2) * 2 ** -23 * magnitude[i]! + 1e-30;
    if (!(Math.abs(actual[i]! - exact[i]!) <= bound)) {
      throw new Error(`${what}: element ${i} is ${actual[i]} but the exact product is ${exact[i]} (bound ${bound})`);
    }
  }
}

/** Sizes around the MR×NR tile edges (4×8 and 5×8), past the thread split, and (for depth) across a KC block (256 in both builds). */
const dimArb = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 21, max: 90 }));
const depthArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: KC - 3, max: KC + 40 }));

/** A's and B's values as dense row-major f64 tensors, for the bound check. */
const dense = (data: Float32Array, rows: number, cols: number, at: (i: number, j: number) => number): Tensor =>
  T.tensorFromTyped(Float32Array.from({ length: rows * cols }, (_, x) => data[at(Math.floor(x / cols), x % cols)]!), [rows, cols], 'f32');

describe('WebAssembly SIMD matmul', () => {
  test('runs here in both builds (Node 20 has WebAssembly SIMD and shared memory, and relaxed SIMD behind a flag the module switches on)', () => {
    expect(gemmModule('simd128')).not.toBeNull();
    expect(relaxedSimdAvailable()).toBe(true);
    expect(gemmModule('fma')).not.toBeNull();
  });

  test('the committed module bytes are the assembled wasm/gemm-wat.ts, with the same tile sizes, in both builds', async () => {
    expect(Buffer.from(await assembleGemm('simd128')).toString('base64')).toBe(GEMM_WASM_BASE64);
    expect(Buffer.from(await assembleGemm('fma')).toString('base64')).toBe(GEMM_FMA_WASM_BASE64);
    for (const variant of VARIANTS) {
      const { mr, nr, kc } = GEMM_SHAPES[variant];
      expect({ mr, nr, kc }, variant).toEqual(GEMM_TILES[variant]);
    }
  });

  test("the build is 'fma' where relaxed SIMD validates, unless TESSERA_GEMM_VARIANT or the backend option says otherwise", () => {
    const saved = process.env[GEMM_VARIANT_ENV];
    try {
      delete process.env[GEMM_VARIANT_ENV];
      expect(gemmVariant()).toBe('fma');
      expect(new WasmGemm(1).variant).toBe('fma');
      expect(cpuGemmVariant(createCpuBackend({ name: 'cpu-variant-default' }))).toBe('fma');
      expect(cpuGemmVariant(createCpuBackend({ name: 'cpu-variant-option', gemmVariant: 'simd128' }))).toBe('simd128');
      expect(cpuGemmVariant(createCpuBackend({ name: 'cpu-variant-ts', wasm: false }))).toBeNull();
      process.env[GEMM_VARIANT_ENV] = 'simd128';
      expect(gemmVariant()).toBe('simd128');
      expect(new WasmGemm(1).variant).toBe('simd128');
      expect(cpuGemmVariant(createCpuBackend({ name: 'cpu-variant-env' }))).toBe('simd128');
      process.env[GEMM_VARIANT_ENV] = 'avx';
      expect(() => gemmVariant()).toThrow(/TESSERA_GEMM_VARIANT=avx: expected 'fma' or 'simd128'/);
    } finally {
      if (saved === undefined) delete process.env[GEMM_VARIANT_ENV];
      else process.env[GEMM_VARIANT_ENV] = saved;
    }
  });

  test("'fma' rounds each multiply-add once where the CPU has FMA, 'simd128' rounds the product and the sum", () => {
    // C = [1, q] · [-1, q]ᵀ with q = 1 + 2^-12: q² = 1 + 2^-11 + 2^-24 is not an f32 (it rounds to
    // 1 + 2^-11, a tie to even); -1 + q² is. Fused: 2^-11 + 2^-24; unfused: 2^-11.
    // B repeats that column 24 times, so the split engines give each thread slivers of it: the
    // workers must run the caller's build too.
    const q = 1 + 2 ** -12;
    const n = 24;
    const A = { data: Float32Array.of(1, q), offset: 0, rowStride: 2, colStride: 1 };
    const B = { data: Float32Array.of(-1, q), offset: 0, rowStride: 1, colStride: 0 };
    const [fused, unfused] = [2 ** -11 + 2 ** -24, 2 ** -11];
    const product = (engine: WasmGemm): number[] => {
      const y = new Float32Array(n);
      engine.matmul(1, n, 2, A, B, y, 0);
      return [...new Set(y)];
    };
    // relaxed_madd may round twice on hardware without FMA; x86 with the fma flag (this project's machines) fuses.
    const cpuHasFma = /^flags\s*:.*\bfma\b/m.test(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '');
    for (const kind of ['single', 'split'] as const) {
      const before = ENGINES.fma[kind].jobsPerThread();
      expect(product(ENGINES.simd128[kind]), `simd128 ${kind}`).toEqual([unfused]);
      const y = product(ENGINES.fma[kind]);
      if (cpuHasFma) expect(y, `fma ${kind}`).toEqual([fused]);
      else expect([[fused], [unfused]], `fma ${kind}`).toContainEqual(y);
      // The split engine's worker ran a share of the product.
      if (kind === 'split') expect(ENGINES.fma.split.jobsPerThread()[1]! - (before[1] ?? 0)).toBe(1);
    }
  });

  test('equals the reference within the f32 summation bound on random shapes, layouts and broadcast batches', () => {
    fc.assert(
      fc.property(
        fc.tuple(dimArb, depthArb, dimArb),
        batchPairArb,
        fc.constantFrom(...LAYOUTS),
        fc.constantFrom(...LAYOUTS),
        seedArb,
        engineArb,
        ([m, k, n], [ba, bb], la, lb, seed, [variant, kind]) => {
          const a = makeView([...ba, m, k], la, 'f32', seed);
          const b = makeView([...bb, k, n], lb, 'f32', seed + 1);
          const out = { shape: T.broadcastShapes(ba, bb).concat([m, n]), dtype: 'f32' as const };
          const engine = ENGINES[variant][kind];
          const y = wasmMatmulKernel(() => engine)([a, b], undefined, out);
          expectWithinF32Bound(y, a, b, `${variant} ${kind} ${la}[${a.shape}] @ ${lb}[${b.shape}]`);
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('B sliced narrowly from a wide matrix (packed in JS rather than copied raw), and a negative stride', () => {
    const [m, k, n, wide] = [21, 290, 19, 200];
    const buf = Float32Array.from({ length: k * wide + 7 }, (_, i) => Math.sin(i * 1.3));
    const aBuf = Float32Array.from({ length: m * k }, (_, i) => Math.cos(i * 0.7));
    const A = { data: aBuf, offset: 0, rowStride: k, colStride: 1 };
    for (const [B, at] of [
      [{ data: buf, offset: 7, rowStride: wide, colStride: 1 }, (p: number, j: number) => 7 + p * wide + j],
      [{ data: buf, offset: 7 + (n - 1), rowStride: wide, colStride: -1 }, (p: number, j: number) => 7 + (n - 1) - j + p * wide],
    ] as const) {
      for (const variant of VARIANTS) {
        for (const engine of [ENGINES[variant].single, ENGINES[variant].split]) {
          const y = new Float32Array(m * n);
          engine.matmul(m, n, k, A, B, y, 0);
          expectWithinF32Bound(y, dense(aBuf, m, k, (i, p) => i * k + p), dense(buf, k, n, at), `${variant} colStride ${B.colStride}`);
        }
      }
    }
  });

  test('A packed in WebAssembly (by every thread as a first job, or by the calling thread) gives the bits A packed in TypeScript gives', () => {
    // m = 23 (not a multiple of 4 or 5: zero rows in the last sliver), k across a depth block.
    const [m, k, n] = [23, 300, 40];
    const buf = Float32Array.from({ length: m * k + 3 }, (_, i) => Math.sin(i * 0.9));
    const B = { data: Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.4)), offset: 0, rowStride: n, colStride: 1 };
    for (const A of [
      { data: buf, offset: 3, rowStride: k, colStride: 1 }, // row-major: rows gathered
      { data: buf, offset: 3, rowStride: 1, colStride: m }, // column-major (x.T): rows contiguous
    ]) {
      for (const variant of VARIANTS) {
        const { single, split } = ENGINES[variant];
        const [want, got] = [new Float32Array(m * n), new Float32Array(m * n)];
        single.matmul(m, n, k, A, B, want, 0);
        const before = split.jobsPerThread()[0] ?? 0;
        split.matmul(m, n, k, A, B, got, 0);
        // Two jobs: packing A, then the product.
        expect(split.jobsPerThread()[0]! - before, variant).toBe(2);
        expect(Array.from(got), `${variant} A strides ${A.rowStride},${A.colStride}`).toEqual(Array.from(want));
        // One thread with no size threshold: the raw copy of A packed by the module on this thread.
        const alone = new Float32Array(m * n);
        new WasmGemm(1, 0, variant).matmul(m, n, k, A, B, alone, 0);
        expect(Array.from(alone), `${variant} one thread, A strides ${A.rowStride},${A.colStride}`).toEqual(Array.from(want));
      }
    }
  });

  test('a batch over one shared B folds into a taller product when A entries are consecutive rows, and not otherwise', () => {
    const b = makeView([30, 25], 'transposed', 'f32', 5);
    const stacked = makeView([3, 20, 30], 'dense', 'f32', 6); // entries 600 elements apart: folds
    const interleaved = makeView([20, 3, 30], 'dense', 'f32', 7).permute([1, 0, 2]); // entries 30 apart, rows 90: does not
    const broadcastB = makeView([1, 30, 25], 'dense', 'f32', 8).expand([3, 30, 25]);
    for (const [a, bb] of [[stacked, b], [interleaved, b], [stacked, broadcastB], [interleaved, broadcastB]] as const) {
      for (const variant of VARIANTS) {
        for (const engine of Object.values(ENGINES[variant])) {
          const out = { shape: [3, 20, 25], dtype: 'f32' as const };
          expectWithinF32Bound(wasmMatmulKernel(() => engine)([a, bb], undefined, out), a, bb, `${variant} [${a.shape}] strides [${a.strides}] @ [${bb.shape}]`);
        }
      }
    }
  });

  test('many small products split by whole entries across threads', () => {
    const a = makeView([11, 21, 90], 'transposed', 'f32', 11);
    const b = makeView([11, 90, 19], 'sliced', 'f32', 12);
    for (const variant of VARIANTS) {
      const { batched } = ENGINES[variant];
      expect(batched.splitsBatch(11, 21, 19, 90)).toBe(true);
      expectWithinF32Bound(wasmMatmulKernel(() => batched)([a, b], undefined, { shape: [11, 21, 19], dtype: 'f32' }), a, b, `${variant} batched 11 x (21x90 @ 90x19)`);
    }
  });

  test('products too large for the engine memory are refused (the kernel sends them to the TypeScript gemm)', () => {
    for (const variant of VARIANTS) {
      expect(ENGINES[variant].single.fits(4096, 4096, 4096)).toBe(true);
      expect(ENGINES[variant].single.fits(16384, 16384, 4096)).toBe(false);
    }
  });

  test('whenCpuThreadsReady starts a backend\'s workers, and a large product runs slices on every thread (cpuThreadJobs)', async () => {
    const backend = T.registerBackend(createCpuBackend({ name: 'cpu-thread-jobs', threads: 3 }));
    expect(await whenCpuThreadsReady(backend)).toBe(3);
    const a = T.tensor(Array.from({ length: 200 * 300 }, (_, i) => Math.sin(i)), { shape: [200, 300], device: backend.name });
    const b = T.tensor(Array.from({ length: 300 * 160 }, (_, i) => Math.cos(i)), { shape: [300, 160], device: backend.name });
    // Threads claim chunks of a product; a worker the scheduler runs late may miss one product's, so
    // multiply until each has run some (at most 200 products).
    for (let i = 0; i < 200 && !(cpuThreadJobs(backend).length === 3 && cpuThreadJobs(backend).every((j) => j > 0)); i++) T.matmul(a, b).dispose();
    const jobs = cpuThreadJobs(backend);
    expect(jobs).toHaveLength(3);
    for (const j of jobs) expect(j).toBeGreaterThan(0);
    expect(await whenCpuThreadsReady(T.registerBackend(createCpuBackend({ name: 'cpu-one-thread', threads: 1 })))).toBe(1);
  });

  test('one engine serves products of growing then shrinking size (memory grows, stale C never leaks in)', () => {
    for (const [[m, k, n, seed], variant] of [[9, 9, 9, 1], [150, 600, 100, 2], [13, 17, 11, 3]].flatMap((c) => VARIANTS.map((v) => [c, v] as const))) {
      const { split } = ENGINES[variant];
      const a = makeView([m, k], 'transposed', 'f32', seed);
      const b = makeView([k, n], 'sliced', 'f32', seed + 1);
      const y = new Float32Array(m * n);
      const aView = a as unknown as { strides: number[]; offset: number; storage: { data: Float32Array } };
      const bView = b as unknown as { strides: number[]; offset: number; storage: { data: Float32Array } };
      split.matmul(m, n, k, { data: aView.storage.data, offset: aView.offset, rowStride: aView.strides[0]!, colStride: aView.strides[1]! }, { data: bView.storage.data, offset: bView.offset, rowStride: bView.strides[0]!, colStride: bView.strides[1]! }, y, 0);
      expectWithinF32Bound(y, a, b, `${variant} ${m}x${k}x${n}`);
    }
  });
});
