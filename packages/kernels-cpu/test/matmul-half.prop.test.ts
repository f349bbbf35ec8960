// f16/bf16 operands go straight into the WebAssembly gemm: widened to f32 while packed (in TypeScript
// through a value table on the calling thread, in the module when worker threads pack a raw copy of
// B), never copied whole to f32. The packed panels then hold exactly the f32 values of the operands,
// so every product must equal the f32 product of the widened operands bit for bit.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { createCpuBackend, matmulReference } from '../src/index.js';
import { wasmMatmulKernel } from '../src/kernels/matmul-wasm.js';
import { castKernel } from '../src/kernels/cast.js';
import { widenHalf } from '../src/kernels/widen-half.js';
import { GEMM_TILES } from '../src/wasm/gemm-module.js';
import { halfValues } from '../src/wasm/half-values.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { VARIANTS, batchPairArb, engineArb, gemmEngines } from './gemm-engines.js';
import { LAYOUTS, makeView, numRuns, seedArb } from './views.js';

const ENGINES = gemmEngines();
const KC = GEMM_TILES.fma.kc;

const HALVES = ['bf16', 'f16'] as const;
const dimArb = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 21, max: 70 }));
const depthArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: KC - 3, max: KC + 20 }));
/** Operand dtypes with at least one half-precision side. */
const dtypesArb = fc.constantFrom<[DType, DType]>(['f32', 'bf16'], ['bf16', 'f32'], ['f32', 'f16'], ['f16', 'f32'], ['bf16', 'bf16'], ['f16', 'f16'], ['f16', 'bf16']);

/** Equality of two f32 arrays, NaNs equal to NaNs (both sides add into a zeroed C, so -0 arrives as 0 on both). */
function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const [x, y] = [actual[i]!, expected[i]!];
    if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) throw new Error(`${what}: element ${i} is ${x}, the f32 product gives ${y}`);
  }
}

describe('matmul with f16/bf16 operands on the WebAssembly gemm', () => {
  test('every f16 and bf16 word widens exactly: the TypeScript table and the module agree (subnormals, Inf, NaN)', () => {
    // C = ones(8, 1) · B(1, 65536): every column of C is one word's value times 1, exact.
    const words = Uint16Array.from({ length: 65536 }, (_, h) => h);
    const ones = { data: new Float32Array(8).fill(1), offset: 0, rowStride: 1, colStride: 1 };
    for (const element of HALVES) {
      const table = halfValues(element);
      const expected = new Float32Array(8 * 65536);
      // 1·x added into a zeroed C.
      for (let i = 0; i < 8; i++) for (let h = 0; h < 65536; h++) expected[i * 65536 + h] = 0 + table[h]!;
      // Contiguous B, and B two words apart (the module's gathering loads), on both engines.
      const strided = new Uint16Array(2 * 65536);
      for (let h = 0; h < 65536; h++) strided[2 * h] = h;
      for (const [b, how] of [
        [{ data: words, offset: 0, rowStride: 65536, colStride: 1, element }, 'contiguous'],
        [{ data: strided, offset: 0, rowStride: 2 * 65536, colStride: 2, element }, 'stride 2'],
      ] as const) {
        for (const variant of VARIANTS) {
          // A threshold of Infinity keeps packing in TypeScript; the split engine widens in the module.
          for (const [engine, name] of [[new WasmGemm(1, Infinity, variant), 'packed in TypeScript'], [ENGINES[variant].split, 'widened in WebAssembly']] as const) {
            const y = new Float32Array(8 * 65536);
            engine.matmul(8, 65536, 1, ones, b, y, 0);
            expectSameBits(y, expected, `${variant} ${element} ${how} ${name}`);
          }
        }
      }
    }
    // The table itself against the tensor package's conversions on the special words.
    expect(halfValues('f16')[0x0001]).toBe(2 ** -24);
    expect(halfValues('f16')[0x7c00]).toBe(Infinity);
    expect(halfValues('f16')[0xfc00]).toBe(-Infinity);
    expect(halfValues('f16')[0x7e00]).toBeNaN();
    expect(halfValues('bf16')[0x3f80]).toBe(1);
    expect(halfValues('bf16')[0x0001]).toBe(2 ** -133);
  });

  test('equals the f32 product of the widened operands bit for bit, and the reference within the f32 bound, on random shapes, layouts, batches and engines', () => {
    fc.assert(
      fc.property(
        fc.tuple(dimArb, depthArb, dimArb),
        batchPairArb,
        fc.constantFrom(...LAYOUTS),
        fc.constantFrom(...LAYOUTS),
        dtypesArb,
        seedArb,
        engineArb,
        ([m, k, n], [ba, bb], la, lb, [da, db], seed, [variant, kind]) => {
          const a = makeView([...ba, m, k], la, da, seed);
          const b = makeView([...bb, k, n], lb, db, seed + 1);
          const out = { shape: T.broadcastShapes(ba, bb).concat([m, n]), dtype: 'f32' as const };
          const kernel = wasmMatmulKernel(() => ENGINES[variant][kind]);
          const what = `${variant} ${kind} ${da} ${la}[${a.shape}] @ ${db} ${lb}[${b.shape}]`;
          const y = kernel([a, b], undefined, out) as Float32Array;
          // The same layouts over f32 copies of the storages, so every path decision (fold, batch, raw copy, TypeScript for small entries) is the same.
          expectSameBits(y, kernel([widenHalf(a), widenHalf(b)], undefined, out) as Float32Array, what);
          const exact = matmulReference([a.cast('f64'), b.cast('f64')], undefined, { ...out, dtype: 'f64' });
          const magnitude = matmulReference([a.abs().cast('f64'), b.abs().cast('f64')], undefined, { ...out, dtype: 'f64' });
          for (let i = 0; i < exact.length; i++) {
            const bound = (k + 2) * 2 ** -23 * magnitude[i]! + 1e-30;
            if (!(Math.abs(y[i]! - exact[i]!) <= bound)) throw new Error(`${what}: element ${i} is ${y[i]}, exact ${exact[i]} (bound ${bound})`);
          }
        },
      ),
      { numRuns: numRuns() },
    );
  });
});

describe('matmul on a half-precision weight through the CPU backend', () => {
  // A backend whose cast kernel counts the casts of f16/bf16 inputs: the dispatcher must not widen the weight.
  let casts = 0;
  const backend = T.registerBackend(
    createCpuBackend({
      name: 'cpu-half-matmul',
      kernels: new Map([[T.OPS.cast, (inputs, attrs, out) => ((casts += inputs[0]!.dtype === 'f16' || inputs[0]!.dtype === 'bf16' ? 1 : 0), castKernel(inputs, attrs, out))]]),
    }),
  );
  /** The same values on the counting backend (dense). */
  const on = (t: Tensor): Tensor => T.tensor(Array.from(t.cast('f32').dataSync()), { shape: [...t.shape], dtype: t.dtype, device: backend.name });

  test.each(HALVES)('x (f32) @ W.T with W in %s: no cast, no f32 copy of W, the same bits as the widened product', (dtype) => {
    const x = on(makeView([3, 40, 96], 'dense', 'f32', 1));
    const w = on(makeView([72, 96], 'dense', dtype, 2));
    const before = casts;
    const y = T.matmul(x, w.T);
    expect(casts).toBe(before);
    expect(y.dtype).toBe('f32');
    const widened = T.matmul(x, w.cast('f32').T);
    expectSameBits(y.dataSync() as Float32Array, widened.dataSync() as Float32Array, `x @ ${dtype} W.T`);
    // Both operands half: the product is half (as PyTorch), computed from the same f32 accumulators.
    const xh = x.cast(dtype);
    const yh = T.matmul(xh, w.T);
    expect(yh.dtype).toBe(dtype);
    expect(Array.from(yh.cast('f32').dataSync())).toEqual(Array.from(T.matmul(xh.cast('f32'), w.cast('f32').T).cast(dtype).cast('f32').dataSync()));
  });

  test('an embedding lookup in a bf16 table widens only the rows it picks (no cast of the table)', () => {
    const table = on(makeView([50, 24], 'dense', 'bf16', 7));
    const ids = T.tensor([3, 0, 49, 3, 17], { shape: [5], dtype: 'i32', device: backend.name });
    const before = casts;
    const rows = T.embedding(ids, table);
    expect(casts).toBe(before);
    expect(rows.dtype).toBe('bf16');
    const words = table.dataSync() as Uint16Array;
    expect(Array.from(rows.dataSync() as Uint16Array)).toEqual([3, 0, 49, 3, 17].flatMap((r) => Array.from(words.subarray(r * 24, r * 24 + 24))));
  });

  test('small products (under the gemm threshold) widen in the kernel and equal the widened product', () => {
    const x = on(makeView([3, 5], 'dense', 'f32', 3));
    const w = on(makeView([4, 5], 'transposed', 'bf16', 4));
    expectSameBits(T.matmul(x, w.T).dataSync() as Float32Array, T.matmul(x, w.cast('f32').T).dataSync() as Float32Array, 'small');
  });

  test('the gradient rule casts back: dA of an f32 input is f32, dB of a bf16 weight is bf16', () => {
    const a = on(makeView([16, 24], 'dense', 'f32', 5));
    const b = on(makeView([24, 16], 'dense', 'bf16', 6));
    const y = T.matmul(a, b);
    const dy = T.onesLike(y);
    const [da, db] = T.OPS.matmul.vjp!(dy, { inputs: [a, b], output: y, attrs: undefined, needsGrad: [true, true] });
    expect(da!.dtype).toBe('f32');
    expect(db!.dtype).toBe('bf16');
    expectSameBits(da!.dataSync() as Float32Array, T.matmul(dy, b.cast('f32').T).dataSync() as Float32Array, 'dA');
  });
});
