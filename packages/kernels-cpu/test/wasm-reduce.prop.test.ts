// The WebAssembly SIMD sums over leading axes and along contiguous rows (src/wasm/wasm-reduce.ts)
// held bit for bit to the TypeScript fold, on f32 inputs large enough to take the module: dense, at an offset, rows of a
// wider matrix (row stride > columns), odd column counts, several 16384-float chunks.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { sumKernel, sumKernelTs } from '../src/kernels/reduce.js';
import { REDUCE_WASM_BASE64 } from '../src/wasm/reduce-bytes.js';
import { WASM_REDUCE_MAX_COLS, WASM_REDUCE_MIN_ELEMENTS, WASM_REDUCE_MIN_RUN, wasmReduceCalls, wasmSumRowsF32, wasmSumRunsF32 } from '../src/wasm/wasm-reduce.js';
import { assembleReduce } from '../wasm/assemble.js';
import { expectIdentical } from './identical-arrays.js';
import { makeView, numRuns, rng, seedArb } from './views.js';

/** An f32 (a, b, c) input: dense, dense at an offset, or the first c columns of an (a, b, c + 5) tensor. */
function input(shape: [number, number, number], layout: 'dense' | 'offset' | 'rows', seed: number): T.Tensor {
  if (layout !== 'rows') return makeView(shape, layout, 'f32', seed);
  return makeView([shape[0], shape[1], shape[2] + 5], 'dense', 'f32', seed).slice(2, 0, shape[2]);
}

describe('WebAssembly SIMD f32 sums over leading axes', () => {
  test('the committed module bytes are the assembled wasm/reduce-wat.ts', async () => {
    expect(Buffer.from(await assembleReduce()).toString('base64')).toBe(REDUCE_WASM_BASE64);
  });

  test('sum over the leading axes equals the TypeScript fold bit for bit, and takes the module', () => {
    const shapeArb = fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 700 }));
    fc.assert(
      fc.property(shapeArb, fc.constantFrom('dense' as const, 'offset' as const, 'rows' as const), seedArb, fc.boolean(), ([a, b, c], layout, seed, keepDims) => {
        fc.pre(a * b * c >= WASM_REDUCE_MIN_ELEMENTS);
        const x = input([a, b, c], layout, seed);
        const attrs = { axes: [0, 1], keepDims };
        const out = { shape: keepDims ? [1, 1, c] : [c], dtype: 'f32' as const };
        const what = `${layout} [${a},${b},${c}]`;
        const calls = wasmReduceCalls();
        const ts = sumKernelTs([x], attrs, out);
        expectIdentical(sumKernel([x], attrs, out), ts, what, 'the TypeScript fold');
        expect(wasmReduceCalls(), `${what}: the kernel took the module`).toBeGreaterThan(calls);
        // The module's own accumulators, rounded to f32, are the TypeScript fold's result too.
        const acc = new Float64Array(c);
        const data = x.storage.data as Float32Array;
        expect(wasmSumRowsF32(acc, data, x.offset, a * b, x.strides[1]!, c), what).toBe(true);
        expectIdentical(Float32Array.from(acc), ts, `${what}, the module alone`, 'the TypeScript fold');
      }),
      { numRuns: numRuns() },
    );
  });

  test('sum along the last axis equals the TypeScript row fold bit for bit, and takes the module', () => {
    const shapeArb = fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: WASM_REDUCE_MIN_RUN, max: 700 }));
    fc.assert(
      fc.property(shapeArb, fc.constantFrom('dense' as const, 'offset' as const, 'rows' as const), seedArb, fc.boolean(), ([a, b, n], layout, seed, keepDims) => {
        fc.pre(a * b * n >= WASM_REDUCE_MIN_ELEMENTS);
        const x = input([a, b, n], layout, seed);
        const attrs = { axes: [2], keepDims };
        const out = { shape: keepDims ? [a, b, 1] : [a, b], dtype: 'f32' as const };
        const what = `${layout} [${a},${b},${n}] along the last axis`;
        const calls = wasmReduceCalls();
        const ts = sumKernelTs([x], attrs, out);
        expectIdentical(sumKernel([x], attrs, out), ts, what, 'the TypeScript fold');
        expect(wasmReduceCalls(), `${what}: the kernel took the module`).toBeGreaterThan(calls);
        const acc = new Float64Array(a * b);
        const data = x.storage.data as Float32Array;
        expect(wasmSumRunsF32(acc, data, x.offset, a * b, x.strides[1]!, n), what).toBe(true);
        expectIdentical(Float32Array.from(acc), ts, `${what}, the module alone`, 'the TypeScript fold');
      }),
      { numRuns: numRuns() },
    );
  });

  test('NaN, infinities and signed zeros sum as in the TypeScript fold', () => {
    const edges = [NaN, Infinity, -Infinity, 0, -0, 1e-45, 3.4e38, -3.4e38, 1, -1, 0.5];
    const next = rng(7);
    const rows = 64;
    const cols = 67;
    const x = T.tensor(Array.from({ length: rows * cols }, (_, i) => (i % 5 === 0 ? edges[Math.floor(next() * edges.length)]! : next() - 0.5)), { shape: [rows, cols], dtype: 'f32' });
    const attrs = { axes: [0], keepDims: false };
    const out = { shape: [cols], dtype: 'f32' as const };
    expectIdentical(sumKernel([x], attrs, out), sumKernelTs([x], attrs, out), 'edge values', 'the TypeScript fold');
    const rowAttrs = { axes: [1], keepDims: false };
    const rowOut = { shape: [rows], dtype: 'f32' as const };
    expectIdentical(sumKernel([x], rowAttrs, rowOut), sumKernelTs([x], rowAttrs, rowOut), 'edge values along rows', 'the TypeScript fold');
  });

  test(`rows wider than ${WASM_REDUCE_MAX_COLS} columns go in blocks of columns`, () => {
    const cols = 2 * WASM_REDUCE_MAX_COLS + 3;
    for (const x of [makeView([5, cols], 'dense', 'f32', 3), makeView([5, cols + 2], 'dense', 'f32', 4).slice(1, 1, cols + 1)]) {
      const attrs = { axes: [0], keepDims: false };
      const out = { shape: [cols], dtype: 'f32' as const };
      const calls = wasmReduceCalls();
      expectIdentical(sumKernel([x], attrs, out), sumKernelTs([x], attrs, out), `wide rows, strides [${x.strides}]`, 'the TypeScript fold');
      expect(wasmReduceCalls(), 'the kernel took the module').toBeGreaterThan(calls);
    }
    // The module alone, on random rows: its column blocks give the TypeScript fold's sums.
    const x = makeView([2, cols], 'dense', 'f32', 5);
    const acc = new Float64Array(cols);
    expect(wasmSumRowsF32(acc, x.storage.data as Float32Array, x.offset, 2, cols, cols)).toBe(true);
    expectIdentical(Float32Array.from(acc), sumKernelTs([x], { axes: [0], keepDims: false }, { shape: [cols], dtype: 'f32' }), 'wide rows, the module alone', 'the TypeScript fold');
  });
});
