// Test support for cross-backend properties: gpu.js backends in each mode that works here, tensors
// built the same way on the CPU and on gpujs (same values, same strided layout), and a comparison
// within a tolerance.
import fc from 'fast-check';
import { expect } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { createGpuJsBackend, provideNavigatorGpu, type GpuJsBackend, type GpuJsMode } from '../src/index.js';

T.registerBackend(createCpuBackend({ wasm: false }));

/** A gpu.js backend named `gpujs-<mode>` in `mode`, registered beside the CPU backend (which stays current). */
export async function gpujsBackend(mode: GpuJsMode): Promise<GpuJsBackend> {
  if (mode === 'webgpu') await provideNavigatorGpu();
  const backend = await createGpuJsBackend({ mode, name: `gpujs-${mode}` });
  T.registerBackend(backend);
  T.setBackend('cpu');
  return backend;
}

/**
 * The gpu.js WebGPU-mode backend, or null when no adapter exists. Under CI (env CI set) a missing
 * adapter is an error: a run told a GPU is present must fail, not skip.
 */
export async function gpujsWebGpuOrNull(): Promise<GpuJsBackend | null> {
  try {
    await provideNavigatorGpu();
    const adapter = await (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<unknown> } } }).navigator.gpu.requestAdapter();
    if (adapter === null) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter (install Mesa lavapipe, see TOOLCHAIN.md)');
    return await gpujsBackend('webgpu');
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping gpu.js WebGPU-mode tests: ${(err as Error).message}`);
    return null;
  }
}

/** Run count for properties: FC_NUM_RUNS from the environment, else 25. */
export function numRuns(fallback = 25): number {
  const n = Number.parseInt(process.env.FC_NUM_RUNS ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** mulberry32: deterministic element values from a seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How element values are drawn. */
export type ValueKind = 'real' | 'positive' | 'smallInt' | 'unit';

/** One element value of `dtype` and `kind`. */
export function draw(kind: ValueKind, dtype: DType, next: () => number): number {
  if (dtype === 'bool') return next() < 0.5 ? 0 : 1;
  if (dtype === 'u8' || dtype === 'u32') return Math.floor(next() * 7);
  if (dtype === 'i32' || kind === 'smallInt') return Math.floor(next() * 9) - 4;
  if (kind === 'positive') return 0.05 + next() * 4;
  if (kind === 'unit') return next() * 1.8 - 0.9;
  return (next() - 0.5) * 8;
}

/** The layouts a view can take. */
export type Layout = 'dense' | 'offset' | 'transposed' | 'sliced' | 'expanded';
export const layoutArb = fc.constantFrom<Layout>('dense', 'offset', 'transposed', 'sliced', 'expanded');

/** A tensor of logical `shape` in `layout` on `device`, with values from `seed` (identical on every device). */
export function makeView(device: string, shape: readonly number[], layout: Layout, dtype: DType, seed: number, kind: ValueKind = 'real'): Tensor {
  const next = rng(seed);
  const fill = (s: readonly number[]) => T.tensor(Array.from({ length: T.numel(s) }, () => draw(kind, dtype, next)), { shape: [...s], dtype, device });
  const rank = shape.length;
  switch (layout) {
    case 'dense':
      return fill(shape);
    case 'offset':
      if (rank === 0) return fill([3]).slice(0, 2, 3).reshape([]);
      return fill([shape[0]! + 3, ...shape.slice(1)]).slice(0, 2, 2 + shape[0]!);
    case 'transposed': {
      const perm = shape.map((_, i) => rank - 1 - i);
      return fill(perm.map((p) => shape[p]!)).permute(perm);
    }
    case 'sliced': {
      let t = fill(shape.map((d) => 2 * d + 1));
      shape.forEach((d, i) => (t = t.slice(i, 1, 1 + 2 * d, 2)));
      return t;
    }
    case 'expanded': {
      const base = shape.map((d, i) => (i % 2 === 0 && d > 0 ? 1 : d));
      return fill(base).expand([...shape]);
    }
  }
}

/** Shapes of rank 0-3 with sizes 0-5 (odd sizes included), biased towards non-empty. */
export const shapeArb = (maxRank = 3, maxDim = 5): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 12, arbitrary: fc.integer({ min: 1, max: maxDim }) }), { minLength: 0, maxLength: maxRank });

/** Tolerances per dtype: [relative, absolute]. f32 kernels may use different (fused, reordered) arithmetic. */
export const TOLERANCE: Record<DType, [number, number]> = {
  f32: [2e-5, 2e-5],
  f64: [2e-5, 2e-5], // held as f32 values by gpu.js
  f16: [2e-3, 2e-3], // one f16 ulp after different f32 rounding
  bf16: [1.6e-2, 1.6e-2],
  i32: [0, 0],
  u32: [0, 0],
  u8: [0, 0],
  bool: [0, 0],
};

/** Asserts a gpujs result equals the CPU result within the dtype's tolerance (NaN equals NaN). */
export async function expectSame(cpu: Tensor, gpu: Tensor, what: string, tol?: [number, number]): Promise<void> {
  expect(gpu.shape, `${what}: shape`).toEqual(cpu.shape);
  expect(gpu.dtype, `${what}: dtype`).toBe(cpu.dtype);
  const [rel, abs] = tol ?? TOLERANCE[cpu.dtype];
  // data() already widens f16/bf16 to f32 values.
  const a = Array.from((await cpu.data()) as ArrayLike<number>);
  const b = Array.from((await gpu.data()) as ArrayLike<number>);
  expect(b.length, `${what}: length`).toBe(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= abs + rel * Math.abs(x))) {
      expect.fail(`${what}: element ${i}: cpu ${x}, gpujs ${y} (tolerance rel ${rel}, abs ${abs})`);
    }
  }
}

/** Runs `build` on both backends (same arguments) and compares the results; disposes everything. */
export async function sameOnBoth(device: string, what: string, build: (device: string) => Tensor, tol?: [number, number]): Promise<void> {
  const cpu = T.tidy(() => build('cpu'));
  const gpu = T.tidy(() => build(device));
  try {
    await expectSame(cpu, gpu, what, tol);
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
}
