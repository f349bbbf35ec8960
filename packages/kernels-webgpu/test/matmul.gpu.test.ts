// The matmul fast path (kernels/matmul-tiled.ts) held to the CPU backend: f32, f16 and bf16, A and B
// each row-major or transposed, aligned (vector loads) or not (scalar loads), broadcast batch dims,
// sizes that do not divide the tiles. Three devices: the default one (shader-f16 where the adapter
// has it), one created without shader-f16 (the unpack path), and one forced onto the 64x64 tile
// that a software adapter never picks.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { matmulKernelWith, matmulRoute } from '../src/kernels/matmul.js';
import { TILE_128, TILE_64 } from '../src/kernels/matmul-tiled.js';
import { draw, expectSame, gpuOrNull, numRuns, rng } from './cross-backend.js';

const gpu = await gpuOrNull();
let noF16: WebGpuBackend | null = null;
let tile64: WebGpuBackend | null = null;
let windowed: WebGpuBackend | null = null;
if (gpu) {
  noF16 = await createWebGpuBackend({ name: 'webgpu-no-f16', disabledFeatures: ['shader-f16'] });
  tile64 = await createWebGpuBackend({ name: 'webgpu-tile64', kernels: new Map([[T.OPS.matmul, matmulKernelWith(TILE_64)]]) });
  // Bindings of at most 4 KiB: bigger operands are read through windows (matmul-windowed.ts), which may end mid-vector.
  windowed = await createWebGpuBackend({ name: 'webgpu-windows', bindingLimitBytes: 4096 });
  T.registerBackend(noF16);
  T.registerBackend(tile64);
  T.registerBackend(windowed);
}
afterAll(() => [gpu, noF16, tile64, windowed].forEach((b) => b?.destroy()));

/** How an operand's matrices lie in memory. */
interface Layout {
  /** Stored transposed: unit stride along the matrix's rows instead of its columns. */
  readonly transposed: boolean;
  /** 'dense': contiguous; 'padded': leading stride rounded up past a multiple of 4 (vector loads); 'shifted': offset 1 (scalar loads). */
  readonly storage: 'dense' | 'padded' | 'shifted';
}
const layoutArb: fc.Arbitrary<Layout> = fc.record({ transposed: fc.boolean(), storage: fc.constantFrom<Layout['storage']>('dense', 'padded', 'shifted') });

/** A (...batch, rows, cols) operand in `layout`, values from `seed` (the same on every device). */
function operand(device: string, batch: number[], rows: number, cols: number, layout: Layout, dtype: DType, seed: number): Tensor {
  const next = rng(seed);
  const [outer, inner] = layout.transposed ? [cols, rows] : [rows, cols];
  const ld = layout.storage === 'padded' ? Math.ceil(inner / 4) * 4 + 4 : inner;
  const shift = layout.storage === 'shifted' ? 1 : 0;
  const total = T.numel([...batch, outer, ld]) + shift;
  const flat = T.tensor(Array.from({ length: total }, () => draw('unit', dtype, next)), { shape: [total], dtype, device });
  let m = flat.slice(0, shift, total).reshape([...batch, outer, ld]);
  if (ld !== inner) m = m.slice(-1, 0, inner);
  return layout.transposed ? T.transpose(m, -1, -2) : m;
}

/** The batch dims of a and b: none, equal, one side broadcast (size 1 or absent), or both broadcast. */
const batchArb = fc.constantFrom<[number[], number[]]>([[], []], [[3], [3]], [[2], []], [[], [2]], [[3], [1]], [[2, 1], [3]], [[1, 2], [2, 1]]);
const sizeArb = fc.constantFrom(1, 2, 3, 4, 5, 8, 16, 17, 33, 64, 65, 127, 129);
const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

// f16/bf16 results round once from f32 sums, the CPU's once from f64 sums: at most one ulp apart.
const TOL: Record<string, [number, number]> = { f32: [1e-5, 1e-5], f16: [2e-3, 2e-3], bf16: [1.6e-2, 1.6e-2] };

interface Case {
  readonly dtype: DType;
  readonly batch: [number[], number[]];
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly la: Layout;
  readonly lb: Layout;
  readonly seed: number;
}
const describeCase = (c: Case) =>
  `matmul ${c.dtype} a [${c.batch[0]},${c.m},${c.k}] ${JSON.stringify(c.la)} b [${c.batch[1]},${c.k},${c.n}] ${JSON.stringify(c.lb)} seed ${c.seed}`;

const build = (device: string, c: Case) => T.matmul(operand(device, c.batch[0], c.m, c.k, c.la, c.dtype, c.seed), operand(device, c.batch[1], c.k, c.n, c.lb, c.dtype, c.seed + 1));

/** Checks that `device` takes the fast path for the case and equals the CPU; returns the device's result. */
async function checkCase(device: string, backend: WebGpuBackend, c: Case): Promise<Tensor> {
  const what = `${describeCase(c)} on ${device}`;
  const a = operand(device, c.batch[0], c.m, c.k, c.la, c.dtype, c.seed);
  const b = operand(device, c.batch[1], c.k, c.n, c.lb, c.dtype, c.seed + 1);
  const route = matmulRoute(a, b, c.dtype, { f16Native: backend.context.features.has('shader-f16'), software: true });
  expect(route, `${what}: takes the fast path`).not.toBeNull();
  // Vector loads exactly when nothing is shifted off a multiple of 4 (size-1 axes aside, which read one element).
  if (c.la.storage === 'padded' && c.lb.storage === 'padded') expect([route!.a.width, route!.b.width], what).toEqual([4, 4]);
  if (c.la.storage === 'shifted' && c.m * c.k > 1) expect(route!.a.width, what).toBe(1);
  const out = T.matmul(a, b);
  const cpu = build('cpu', c);
  try {
    await expectSame(cpu, out, what, TOL[c.dtype]);
  } finally {
    [a, b, cpu].forEach((t) => t.dispose());
  }
  return out;
}

const caseArb = (dtypes: DType[]): fc.Arbitrary<Case> =>
  fc.record({ dtype: fc.constantFrom(...dtypes), batch: batchArb, m: sizeArb, k: sizeArb, n: sizeArb, la: layoutArb, lb: layoutArb, seed: seedArb });

const runs = { numRuns: numRuns() };

/**
 * Timeout of the properties below. On a software adapter their cost is compiling pipelines (one per
 * device, tile, dtype, transposition and load width of each operand), not running them (2-12 s for
 * 100 runs once compiled), and that cost does not shrink with fewer runs or smaller shapes. With an
 * empty Mesa shader cache (CI's fresh machine) on the loaded 2-core machine, one dtype's share took
 * 42-54 s and the f16 unpack device 86 s; a test that compiles first can pass 120 s, so they get 240 s.
 */
const COMPILE_BOUND_MS = 240_000;
const DTYPES = ['f32', 'f16', 'bf16'] as const;

describe.skipIf(gpu === null)('matmul fast path on webgpu', () => {
  // One test per dtype (here and for the 64x64 tile): each compiles that dtype's pipelines only.
  for (const dtype of DTYPES) {
    test(`equals the CPU (${dtype}): A and B row-major or transposed; aligned or not; broadcast batches; odd sizes`, async () => {
      await fc.assert(fc.asyncProperty(caseArb([dtype]), async (c) => (await checkCase('webgpu', gpu!, c)).dispose()), runs);
    }, COMPILE_BOUND_MS);
  }

  test('f16 on a device without shader-f16 (unpack path) equals the CPU, and the shader-f16 path bit for bit', async () => {
    expect(noF16!.context.features.has('shader-f16')).toBe(false);
    await fc.assert(
      fc.asyncProperty(caseArb(['f16']), async (c) => {
        const unpacked = await checkCase('webgpu-no-f16', noF16!, c);
        const native = build('webgpu', c);
        try {
          // Both paths multiply exact f32 products in the same order: identical sums, identical rounding.
          expect(Array.from(await native.data()), describeCase(c)).toEqual(Array.from(await unpacked.data()));
        } finally {
          native.dispose();
          unpacked.dispose();
        }
      }),
      runs,
    );
  }, COMPILE_BOUND_MS);

  // With all three dtypes in one test this one passed 120 s cold (2.5 s once compiled).
  for (const dtype of DTYPES) {
    test(`the 64x64 tile (a GPU picks it for mid-sized products) equals the CPU (${dtype})`, async () => {
      await fc.assert(fc.asyncProperty(caseArb([dtype]), async (c) => (await checkCase('webgpu-tile64', tile64!, c)).dispose()), runs);
    }, COMPILE_BOUND_MS);
  }

  test('operands read through binding windows that end mid-vector (4 KiB bindings, aligned leading strides, K not a multiple of 4)', async () => {
    const big = fc.constantFrom(97, 130, 201);
    const arb = fc.record({ dtype: fc.constantFrom<DType>('f32', 'f16', 'bf16'), batch: fc.constant<[number[], number[]]>([[], []]), m: big, k: fc.constantFrom(5, 7, 33), n: big, la: layoutArb, lb: layoutArb, seed: seedArb });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const what = `${describeCase(c)} on webgpu-windows`;
        const out = build('webgpu-windows', c);
        const cpu = build('cpu', c);
        try {
          await expectSame(cpu, out, what, TOL[c.dtype]);
        } finally {
          out.dispose();
          cpu.dispose();
        }
      }),
      { numRuns: Math.min(runs.numRuns, 30) },
    );
  });

  test('several tiles in every direction and many k-steps (f32 and f16, 128x128 and 64x64 tiles)', async () => {
    for (const dtype of ['f32', 'f16'] as const) {
      const c: Case = { dtype, batch: [[2], [1]], m: 301, k: 203, n: 262, la: { transposed: false, storage: 'dense' }, lb: { transposed: true, storage: 'dense' }, seed: 7 };
      (await checkCase('webgpu', gpu!, c)).dispose();
      (await checkCase('webgpu-tile64', tile64!, c)).dispose();
    }
  });

  test('routing: integers and operands with no unit-stride axis go to the strided kernel; the tile follows the device', () => {
    const dev = { f16Native: true, software: false };
    const ones = (shape: number[], dtype: DType = 'f32') => T.ones(shape, { dtype, device: 'cpu' });
    const a = ones([8, 8]);
    const sliced = ones([8, 16]).slice(1, 0, 16, 2); // column stride 2, row stride 16
    expect(matmulRoute(a, a, 'f32', dev)).not.toBeNull();
    expect(matmulRoute(ones([8, 8], 'i32'), ones([8, 8], 'i32'), 'i32', dev)).toBeNull();
    expect(matmulRoute(a, sliced, 'f32', dev)).toBeNull();
    expect(matmulRoute(ones([8, 8], 'f16'), ones([8, 8], 'f16'), 'f32', dev)?.f16Native).toBe(true);
    expect(matmulRoute(a, a, 'f32', dev)?.f16Native).toBe(false);
    expect(matmulRoute(a, a, 'f32', dev)?.tile).toBe(TILE_64);
    expect(matmulRoute(a, a, 'f32', { ...dev, software: true })?.tile).toBe(TILE_128);
    const big = ones([2048, 64]);
    const wide = ones([64, 2048]);
    expect(matmulRoute(big, wide, 'f32', dev)?.tile).toBe(TILE_128);
    [a, sliced, big, wide].forEach((t) => t.dispose());
  });

  test('regression (found by the property): a matrix with a size-1 axis is read along its other, unit-stride axis', async () => {
    // b (5 x 1) stored as a padded (1 x 8) row, transposed: its rows have stride 1, its one column stride 8.
    const c: Case = { dtype: 'f32', batch: [[], []], m: 1, k: 5, n: 1, la: { transposed: false, storage: 'padded' }, lb: { transposed: true, storage: 'padded' }, seed: 0 };
    (await checkCase('webgpu', gpu!, c)).dispose();
    const d: Case = { dtype: 'f32', batch: [[], []], m: 4, k: 1, n: 1, la: { transposed: true, storage: 'padded' }, lb: { transposed: false, storage: 'padded' }, seed: 0 };
    (await checkCase('webgpu-tile64', tile64!, d)).dispose();
  });
});
