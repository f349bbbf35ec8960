// The attention heads task's WebAssembly row loops (wasm/attention-rows-wat.ts) on their own, in both
// gemm builds: the f32x4 e^x against Math.exp over the whole range a softmax feeds it (to a few f32
// ulps, 0 below the f32 range, NaN kept), and the causal softmax, P/dS and row-scaling functions
// against plain loops on random rows. The fused-attention properties hold the whole ops to their
// decompositions; these pin the pieces so a wrong polynomial coefficient shows here by name.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { AttentionExports } from '../src/wasm/attention-task.js';
import { gemmModule, relaxedSimdAvailable, type GemmVariant } from '../src/wasm/gemm-module.js';
import { numRuns, rng, seedArb } from './views.js';

const variants: GemmVariant[] = relaxedSimdAvailable() ? ['simd128', 'fma'] : ['simd128'];

/** One instance of a gemm build on a fresh shared memory. */
function instance(variant: GemmVariant): { x: AttentionExports; f: Float32Array } {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 64, shared: true });
  const x = new WebAssembly.Instance(gemmModule(variant)!, { env: { memory } }).exports as unknown as AttentionExports;
  return { x, f: new Float32Array(memory.buffer) };
}

describe.each(variants)('attention row loops of the %s gemm build', (variant) => {
  const { x, f } = instance(variant);

  test('e^x (through attnSoftmax of one row whose max is 0) is within 3e-7 relative of Math.exp on [-87, 0], 0 below -87.4, NaN for NaN', () => {
    const n = 4099;
    const row = 1024;
    const xs = Array.from({ length: n }, (_, j) => (j === 0 ? 0 : -87 * (j / (n - 1)) ** 1.5));
    f.set(xs, row);
    x.attnSoftmax(4 * row, n, 1, n, 0, 0, 1, 64);
    let worst = 0;
    for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(f[row + j]! / Math.exp(Math.fround(xs[j]!)) - 1));
    expect(worst).toBeLessThan(3e-7);
    expect(f[16]).toBe(0); // the max
    f.set([0, -87.5, -100, -Infinity, 0, -90, -1e30], row);
    x.attnSoftmax(4 * row, 7, 1, 7, 0, 0, 1, 64);
    expect(Array.from(f.subarray(row + 1, row + 4))).toEqual([0, 0, 0]);
    expect(Array.from(f.subarray(row + 5, row + 7))).toEqual([0, 0]);
    f.set([0, 1, NaN, 2, 0, 0, 0, 0], row);
    x.attnSoftmax(4 * row, 8, 1, 8, 0, 0, 1, 64);
    expect(Number.isNaN(f[16])).toBe(true);
    expect(Number.isNaN(f[row])).toBe(true);
  });

  test('attnSoftmax, attnGrad and attnScaleRows equal plain loops on random causal tiles', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: -4, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        seedArb,
        (rows, s, skew, causal, add, seed) => {
          const next = rng(seed);
          const rnd = (): number => Math.fround(next() * 6 - 3);
          const ld = s + 3;
          const c1 = 1024, c2 = 2048, stats = 3072, lse = 3200, delta = 3300, dst = 3400;
          const scores = Array.from({ length: rows * ld }, rnd);
          const dp = Array.from({ length: rows * ld }, rnd);
          const ls = Array.from({ length: rows }, (_, i) => (i === 1 ? NaN : Math.fround(rnd() + 4)));
          const ds = Array.from({ length: rows }, rnd);
          const vis = (i: number): number => (causal ? Math.max(0, Math.min(s, i + skew + 1)) : s);
          const scale = 0.37;
          // attnSoftmax
          f.set(scores, c1);
          x.attnSoftmax(4 * c1, ld, rows, s, skew, causal ? 1 : 0, scale, 4 * stats);
          for (let i = 0; i < rows; i++) {
            const v = scores.slice(i * ld, i * ld + vis(i)).map((a) => Math.fround(a * Math.fround(scale)));
            const m = v.length ? Math.max(...v) : -Infinity;
            expect(f[stats + 2 * i]).toBe(m);
            for (let j = 0; j < s; j++) {
              const want = j < v.length ? Math.exp(v[j]! - m) : 0;
              expect(Math.abs(f[c1 + i * ld + j]! - want)).toBeLessThanOrEqual(4e-7 * want);
            }
            const sum = v.reduce((a, b) => a + Math.exp(b - m), 0);
            expect(Math.abs(f[stats + 2 * i + 1]! - sum)).toBeLessThanOrEqual(1e-6 * sum);
          }
          // attnGrad: rows whose lse is NaN stay as they were
          f.set(scores, c1);
          f.set(dp, c2);
          f.set(ls, lse);
          f.set(ds, delta);
          x.attnGrad(4 * c1, 4 * c2, ld, rows, s, skew, causal ? 1 : 0, scale, 4 * lse, 4 * delta);
          for (let i = 0; i < rows; i++) {
            for (let j = 0; j < s; j++) {
              const at = i * ld + j;
              if (Number.isNaN(ls[i])) {
                expect(f[c1 + at]).toBe(Math.fround(scores[at]!));
                expect(f[c2 + at]).toBe(Math.fround(dp[at]!));
                continue;
              }
              const p = j < vis(i) ? Math.exp(Math.fround(scores[at]! * Math.fround(scale)) - Math.fround(ls[i]!)) : 0;
              expect(Math.abs(f[c1 + at]! - p)).toBeLessThanOrEqual(1e-6 * p + 1e-30);
              const g = j < vis(i) ? p * (Math.fround(dp[at]!) - Math.fround(ds[i]!)) : 0;
              expect(Math.abs(f[c2 + at]! - g)).toBeLessThanOrEqual(1e-6 * Math.abs(p) * 8 + 1e-30);
            }
          }
          // attnScaleRows: one factor per row (sstep 1) onto dst rows of their own stride
          const ldd = s + 1;
          const before = Array.from({ length: rows * ldd }, rnd);
          f.set(before, dst);
          f.set(scores, c1);
          f.set(ds, delta);
          x.attnScaleRows(4 * dst, ldd, 4 * c1, ld, rows, s, 4 * delta, 1, add ? 1 : 0);
          for (let i = 0; i < rows; i++) {
            for (let j = 0; j < s; j++) {
              const want = Math.fround((add ? Math.fround(before[i * ldd + j]!) : 0) + Math.fround(Math.fround(scores[i * ld + j]!) * Math.fround(ds[i]!)));
              expect(f[dst + i * ldd + j]).toBe(want);
            }
          }
        },
      ),
      { numRuns: numRuns() },
    );
  });
});
