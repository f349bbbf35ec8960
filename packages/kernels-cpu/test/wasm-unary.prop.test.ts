// The WebAssembly SIMD exp, tanh and sigmoid (src/wasm/wasm-elementwise.ts, wasm/elementwise-wat.ts)
// against the plain table kernel (double precision, rounded once): f32 polynomials, so not bit for bit
// but within 3 ulp of the reference (measured worst: 1 ulp for exp and tanh, 2 for sigmoid over
// [-110, 100]), with special values exact. Inputs the module does not take (strided, small) run the
// TypeScript loops, identical to the table kernel.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { UNARY_FUNCTIONS, UNARY_KERNELS, UNARY_KERNELS_TS, WASM_UNARY_OPS, unaryKernel } from '../src/kernels/unary.js';
import { WASM_MIN_ELEMENTS, wasmUnaryF32 } from '../src/wasm/wasm-elementwise.js';
import { expectIdentical } from './identical-arrays.js';
import { makeView, numRuns, seedArb, type Layout } from './views.js';

/** Within 3 ulp of the f32-rounded reference (absolute 2^-149 where it is subnormal or zero); NaN for NaN. */
function expectWithinUlps(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const [x, r] = [actual[i]!, expected[i]!];
    if (Number.isNaN(r) ? Number.isNaN(x) : x === r || Math.abs(x - r) <= 3 * 2 ** -23 * Math.abs(r) + 2 ** -149) continue;
    throw new Error(`${what}: element ${i} is ${x} but the plain kernel gives ${r} (${(Math.abs(x - r) / (2 ** -23 * Math.abs(r))).toFixed(1)} ulp)`);
  }
}

/** Sizes around the threshold and past one 16384-float chunk, and the scale of the values. */
const sizeArb = fc.oneof(fc.integer({ min: WASM_MIN_ELEMENTS - 5, max: WASM_MIN_ELEMENTS + 40 }), fc.integer({ min: 16000, max: 40000 }));
const scaleArb = fc.constantFrom(1e-4, 0.3, 1, 8, 60);

describe('WebAssembly SIMD exp, tanh and sigmoid', () => {
  for (const [op, name] of WASM_UNARY_OPS) {
    const plain = unaryKernel(UNARY_FUNCTIONS.get(op)!);
    test(`${name} is within 3 ulp of the plain kernel on large dense inputs; other layouts and sizes equal it exactly`, () => {
      fc.assert(
        fc.property(sizeArb, scaleArb, fc.constantFrom<Layout>('dense', 'offset', 'sliced', 'transposed'), seedArb, (n, scale, layout, seed) => {
          const shape = layout === 'transposed' ? [n >> 3, 8] : [n];
          const x = makeView(shape, layout, 'f32', seed);
          // Scaled in place, so the layout stays (values are drawn in [-4, 4)).
          const data = x.storage.data as Float32Array;
          for (let i = 0; i < data.length; i++) data[i] = data[i]! * (scale / 4);
          const out = { shape, dtype: 'f32' as const };
          const got = UNARY_KERNELS.get(op)!([x], undefined, out);
          const reference = plain([x], undefined, out);
          const what = `${name} ${layout}[${shape}] scale ${scale}`;
          const takes = n >= WASM_MIN_ELEMENTS && (layout === 'dense' || layout === 'offset');
          expect(wasmUnaryF32(name, x, shape) !== null, what).toBe(takes);
          if (takes) expectWithinUlps(got, reference, what);
          else expectIdentical(got, reference, what, 'the plain kernel', false);
          // Without WebAssembly (createCpuBackend({ wasm: false })): the TypeScript loop, exactly the table.
          expectIdentical(UNARY_KERNELS_TS.get(op)!([x], undefined, out), reference, `${what} (TypeScript kernels)`, 'the plain kernel', false);
        }),
        { numRuns: numRuns() },
      );
    });
  }

  test('NaN, infinities, signed zeros, overflow and underflow edges', () => {
    const edges = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-40, 88.7, 88.8, 89.5, -87.3, -103.9, -104.5, -200, 200, 0.625, -0.625, 9, -9, 20, -20];
    const x = T.tensor(Array.from({ length: WASM_MIN_ELEMENTS }, (_, i) => edges[i % edges.length]!), { dtype: 'f32' });
    const out = { shape: [WASM_MIN_ELEMENTS], dtype: 'f32' as const };
    for (const [op, name] of WASM_UNARY_OPS) {
      const got = wasmUnaryF32(name, x, out.shape)!;
      const reference = unaryKernel(UNARY_FUNCTIONS.get(op)!)([x], undefined, out);
      expectWithinUlps(got, reference, `${name} edges`);
      // Exactly: infinities, zeros (with sign for tanh) and saturation.
      for (let i = 0; i < edges.length; i++) {
        const r = reference[i]!;
        if (!Number.isFinite(r) || r === 0 || Math.abs(r) === 1) expect(Object.is(got[i], r) || (Number.isNaN(r) && Number.isNaN(got[i]!)), `${name}(${edges[i]})`).toBe(true);
      }
    }
  });
});
