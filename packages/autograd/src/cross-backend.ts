// Cross-backend comparison support shared by the kernels packages' property tests: tensors built the
// same way on the CPU and on another backend (same values, same strided layout) and a comparison
// within a per-dtype tolerance. Plain errors, not a test runner's asserts, so browser pages can run it.
import fc from 'fast-check';
import { numel, tidy, tensor, type DType, type Tensor } from '@tessera/tensor';

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
  const fill = (s: readonly number[]) => tensor(Array.from({ length: numel(s) }, () => draw(kind, dtype, next)), { shape: [...s], dtype, device });
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

/** Shapes of rank 0..maxRank with sizes 0..maxDim (odd and empty sizes included), biased towards non-empty. */
export const viewShapeArb = (maxRank = 3, maxDim = 5): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 12, arbitrary: fc.integer({ min: 1, max: maxDim }) }), { minLength: 0, maxLength: maxRank });

/** Tolerances per dtype, [relative, absolute]: GPU kernels may use different (fused, reordered) f32 arithmetic. */
export const CROSS_BACKEND_TOLERANCE: Record<DType, [number, number]> = {
  f32: [2e-5, 2e-5],
  f64: [2e-5, 2e-5], // GPU backends compute (and gpu.js holds) f64 at f32 precision
  f16: [2e-3, 2e-3], // one f16 ulp after different f32 rounding
  bf16: [1.6e-2, 1.6e-2],
  i32: [0, 0],
  u32: [0, 0],
  u8: [0, 0],
  bool: [0, 0],
};

/** Throws unless `other` equals the CPU result `cpu` in shape, dtype and values within the dtype's tolerance (NaN equals NaN). */
export async function expectSame(cpu: Tensor, other: Tensor, what: string, tol?: [number, number]): Promise<void> {
  if (JSON.stringify(other.shape) !== JSON.stringify(cpu.shape)) throw new Error(`${what}: shape: cpu [${cpu.shape}], ${other.device} [${other.shape}]`);
  if (other.dtype !== cpu.dtype) throw new Error(`${what}: dtype: cpu ${cpu.dtype}, ${other.device} ${other.dtype}`);
  const [rel, abs] = tol ?? CROSS_BACKEND_TOLERANCE[cpu.dtype];
  // data() already widens f16/bf16 to f32 values.
  const a = Array.from((await cpu.data()) as ArrayLike<number>);
  const b = Array.from((await other.data()) as ArrayLike<number>);
  if (b.length !== a.length) throw new Error(`${what}: length: cpu ${a.length}, ${other.device} ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= abs + rel * Math.abs(x))) {
      throw new Error(`${what}: element ${i}: cpu ${x}, ${other.device} ${y} (tolerance rel ${rel}, abs ${abs})`);
    }
  }
}

/** Runs `build` on the CPU and on `device` (same arguments) and compares the results; disposes both. */
export async function sameOnBoth(device: string, what: string, build: (device: string) => Tensor, tol?: [number, number]): Promise<void> {
  const cpu = tidy(() => build('cpu'));
  const other = tidy(() => build(device));
  try {
    await expectSame(cpu, other, what, tol);
  } finally {
    cpu.dispose();
    other.dispose();
  }
}
