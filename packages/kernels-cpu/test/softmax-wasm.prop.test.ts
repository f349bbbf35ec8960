// The softmax, log-softmax and cross-entropy kernels with their lane sums of exp on the WebAssembly
// SIMD module (src/kernels/softmax-wasm.ts) against the same kernels with the TypeScript lane sum:
// f32 exp within an ulp, summed in f64, so results agree to a few f32 ulp, relative to the row's
// scale; lanes the module does not take (strided, short) are identical.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { OpDef } from '@tessera/tensor';
import { CPU_KERNELS } from '../src/index.js';
import { WASM_SOFTMAX_KERNELS, WASM_SUM_EXP_MIN, laneSumExpWasm } from '../src/kernels/softmax-wasm.js';
import { laneSumExp } from '../src/kernels/softmax.js';
import { expectClose, makeView, numRuns, seedArb, type Layout } from './views.js';

/** (rows, lane length): lanes around the threshold and past one 16384-float chunk. */
const caseArb = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.oneof(fc.integer({ min: WASM_SUM_EXP_MIN - 3, max: 300 }), fc.integer({ min: 16380, max: 16400 })));
const scaleArb = fc.constantFrom(0.1, 1, 10);

describe('softmax and cross-entropy with the SIMD lane sum', () => {
  test('the lane sum equals the TypeScript one within f32 rounding of each term; NaN and -Inf lanes as in TypeScript', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20000 }), scaleArb, seedArb, (n, scale, seed) => {
        const x = makeView([n], 'dense', 'f32', seed).mul(scale).dataSync() as Float32Array;
        let m = -Infinity;
        for (const v of x) m = Math.max(m, v);
        const want = laneSumExp(x, 0, 1, n, m);
        const got = laneSumExpWasm(x, 0, 1, n, m);
        // Each term within 1 ulp of exp plus the f32 rounding of x - m (|x - m|·2^-24, relative).
        let bound = 0;
        for (const v of x) bound += Math.exp(v - m) * (2 ** -23 + Math.abs(v - m) * 2 ** -24);
        expect(Math.abs(got - want), `n ${n} scale ${scale}`).toBeLessThanOrEqual(bound * 1.01 + 1e-300);
      }),
      { numRuns: numRuns() },
    );
    const edge = Float32Array.from({ length: 100 }, (_, i) => (i === 7 ? NaN : i));
    expect(laneSumExpWasm(edge, 0, 1, 100, NaN)).toBeNaN();
    const allNegInf = new Float32Array(100).fill(-Infinity);
    expect(Number.isNaN(laneSumExpWasm(allNegInf, 0, 1, 100, -Infinity))).toBe(Number.isNaN(laneSumExp(allNegInf, 0, 1, 100, -Infinity)));
  });

  for (const [op, kernel] of WASM_SOFTMAX_KERNELS) {
    const plain = CPU_KERNELS.get(op)!;
    test(`${op.name} agrees with the TypeScript lane sum (dense and offset lanes take the module; transposed ones do not)`, () => {
      fc.assert(
        fc.property(caseArb, scaleArb, fc.constantFrom<Layout>('dense', 'offset', 'transposed'), seedArb, ([rows, c], scale, layout, seed) => {
          const shape = [rows, c];
          const x = makeView(shape, layout, 'f32', seed);
          const data = x.storage.data as Float32Array;
          for (let i = 0; i < data.length; i++) data[i] = data[i]! * scale;
          const inputs = inputsFor(op, x, seed);
          const attrs = op === T.OPS.crossEntropyLosses || op === T.OPS.crossEntropyBackward ? { ignoreIndex: -100, labelSmoothing: seed % 2 ? 0.1 : 0 } : { axis: 1 };
          const out = { shape: op === T.OPS.crossEntropyLosses ? [rows] : shape, dtype: 'f32' as const };
          const got = kernel(inputs, attrs, out);
          const want = plain(inputs, attrs, out);
          // Relative to the row's scale: log-softmax outputs near 0 carry the lse's absolute error.
          expectClose(got, want, 4e-6, 4e-6 * Math.max(1, scale), `${op.name} ${layout}[${shape}] scale ${scale}`);
          // Transposed lanes are strided (unless a single row, whose lane is contiguous after all).
          if (layout === 'transposed' && rows > 1) expect(Array.from(got)).toEqual(Array.from(want));
        }),
        { numRuns: Math.max(10, Math.floor(numRuns() / 4)) },
      );
    });
  }
});

/** The op's inputs: x, then the gradient (backward ops) or targets and the per-row gradient (cross-entropy). */
function inputsFor(op: OpDef, x: T.Tensor, seed: number): T.Tensor[] {
  const [rows, c] = x.shape as [number, number];
  const targets = () => T.tensor(Array.from({ length: rows }, (_, r) => (r === 1 ? -100 : (seed + r * 7) % c)), { shape: [rows], dtype: 'i32' });
  if (op === T.OPS.crossEntropyLosses) return [x, targets()];
  if (op === T.OPS.crossEntropyBackward) return [x, targets(), makeView([rows], 'dense', 'f32', seed + 2)];
  if (op === T.OPS.softmaxBackward || op === T.OPS.logSoftmaxBackward) return [x, makeView([rows, c], 'dense', 'f32', seed + 1)];
  return [x];
}
