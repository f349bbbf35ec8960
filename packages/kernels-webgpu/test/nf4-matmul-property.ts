// The fused NF4 product held to the CPU and to its own decomposition on WebGPU (nf4Dequantize + matmul),
// for both directions the op runs in (x·Wᵀ forward, x·W for the input gradient), on shapes that divide
// neither the 64-wide output tiles, the 16-deep k tiles, the 64-value NF4 blocks nor the 256-block
// scale groups. Shared by fused.gpu.test.ts (its coverage list) and nf4-matmul.gpu.test.ts.
import fc from 'fast-check';
import { expect } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Nf4MatmulAttrs, Tensor } from '@tessera/tensor';
import { expectSame, layoutArb, makeView, numRuns, rng, shapeArb, type Layout } from './cross-backend.js';

/** Any 256-entry code serves the kernel; this one is monotone in [-1, 1] like bitsandbytes' dynamic map. */
export const SCALE_CODE: readonly number[] = Object.freeze(Array.from({ length: 256 }, (_, i) => Math.sign(i - 127.5) * ((i - 127.5) / 127.5) ** 2));

/** Random packed NF4 operands (indices, 8-bit scales, f32 second-level scales) for a weight of `shape`, on `device`. */
export function packedWeight(device: string, shape: [number, number], seed: number): { tensors: Tensor[]; attrs: Omit<Nf4MatmulAttrs, 'transposeW'> } {
  const next = rng(seed);
  const n = shape[0] * shape[1];
  const blocks = Math.ceil(n / T.NF4_BLOCK);
  const packed = Array.from({ length: Math.ceil(n / 2) }, () => Math.floor(next() * 256));
  const scalesQ = Array.from({ length: blocks }, () => Math.floor(next() * 256));
  const scales2 = Array.from({ length: Math.ceil(blocks / T.NF4_SCALE_BLOCK) }, () => 0.5 + next() * 2);
  const offset = 0.25 + next();
  return {
    tensors: [T.tensor(packed, { dtype: 'u8', device }), T.tensor(scalesQ, { dtype: 'u8', device }), T.tensor(scales2, { dtype: 'f32', device })],
    attrs: { shape, offset, scaleCode: SCALE_CODE },
  };
}

/** One comparison: WebGPU fused vs CPU fused vs WebGPU decomposition, for x (..., k) in `layout` and `dtype`. */
export async function checkNf4Matmul(lead: number[], shape: [number, number], transposeW: boolean, layout: Layout, dtype: DType, seed: number): Promise<void> {
  const k = transposeW ? shape[1] : shape[0];
  const build = (device: string) => {
    const w = packedWeight(device, shape, seed);
    return { x: makeView(device, [...lead, k], layout, dtype, seed + 1, 'unit'), w: w.tensors, attrs: { ...w.attrs, transposeW } };
  };
  const g = build('webgpu');
  const fused = T.apply(T.OPS.nf4Matmul, [g.x, ...g.w], g.attrs);
  const decomposed = T.withGradMode(false, () => T.tidy(() => (T.OPS.nf4Matmul as T.CompositeDef<Nf4MatmulAttrs>).decompose([g.x, ...g.w], g.attrs)));
  const c = build('cpu');
  const cpu = T.apply(T.OPS.nf4Matmul, [c.x, ...c.w], c.attrs);
  const what = `nf4Matmul ${dtype} ${layout} x [${lead},${k}] W [${shape}] transposeW=${transposeW}`;
  // Sums of up to a few hundred products of size ~1: f32 reordering differs by a few ulp of the sum.
  // In f16 the decomposition multiplies an f16-rounded weight; the fused kernel rounds only the result.
  const r = dtype === 'f32' ? 1e-4 : dtype === 'f16' ? 4e-3 : 2e-2;
  const tol: [number, number] = [r, r * Math.sqrt(k + 1)];
  expect(fused.shape).toEqual([...lead, transposeW ? shape[0] : shape[1]]);
  await expectSame(cpu, fused, `${what} (webgpu vs cpu)`, tol);
  await expectSame(decomposed, fused, `${what} (fused vs decomposition)`, tol);
  [g.x, ...g.w, fused, decomposed, c.x, ...c.w, cpu].forEach((t) => t.dispose());
}

/** The property over random shapes, layouts and both directions, for x in `dtype`. */
export const nf4MatmulProperty = (dtype: 'f32' | 'f16'): Promise<void> =>
  fc.assert(
    fc.asyncProperty(
      shapeArb(2, 70).filter((s) => s.reduce((a, b) => a * b, 1) <= 140),
      fc.integer({ min: 1, max: 75 }),
      fc.integer({ min: 1, max: 150 }),
      fc.boolean(),
      layoutArb,
      fc.constant(dtype),
      fc.integer({ min: 0, max: 1e6 }),
      async (lead, outF, inF, transposeW, layout, dtype, seed) => checkNf4Matmul(lead, [outF, inF], transposeW, layout, dtype, seed),
    ),
    { numRuns: numRuns() },
  );

/**
 * The property as one test per x dtype. On a software adapter its cost is compiling pipelines (the
 * fused kernel and the decomposition's dequantize, matmul tiles and layout copies, per dtype), not
 * running them: with both dtypes in one test it took 76 s of its 120 s timeout on lavapipe with an
 * empty Mesa shader cache (CI's fresh machine) on the 2-core machine, 2 s once compiled; apart, 28 and
 * 32 s (FC_NUM_RUNS=100).
 */
export const NF4_MATMUL_PROPERTIES: Readonly<Record<string, () => Promise<void>>> = {
  'x in f32': () => nf4MatmulProperty('f32'),
  'x in f16': () => nf4MatmulProperty('f16'),
};
