// f32 arrays in the shared WebAssembly memory's arena (src/wasm/f32-arena.ts): a growing shared
// memory keeps its old views, blocks are accounted and come back by identity only, users read plain
// copies, and products and attention give the same bits with operands and results in the arena as
// with plain arrays (mixed, strided, sliced, offset, and results that take C in place or not).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor, TensorView } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { clearF32Pool, pooledF32Bytes, recycleF32, takeF32 } from '../src/f32-array-pool.js';
import { attentionHeads, type HeadsOp } from '../src/kernels/attention-heads.js';
import { wasmMatmulKernel } from '../src/kernels/matmul-wasm.js';
import type { AttentionDims } from '../src/kernels/attention-rows.js';
import { ARENA_BASE, ARENA_MIN_ELEMENTS, agentMemory, arenaBlock, arenaRelease, arenaStats, arenaTake, configureArena } from '../src/wasm/f32-arena.js';
import type { GemmOperand, WasmGemm } from '../src/wasm/wasm-gemm.js';
import { VARIANTS, gemmEngines } from './gemm-engines.js';
import { makeView, numRuns, rng, seedArb, type Layout } from './views.js';

const ENGINES = gemmEngines();
T.registerBackend(createCpuBackend({ name: 'cpu-arena', threads: 2 }));

beforeAll(() => {
  agentMemory();
  configureArena({ enabled: true, minElements: 1 });
});
afterAll(() => configureArena({ enabled: true, minElements: ARENA_MIN_ELEMENTS }));

/** A copy of `data` in a new arena block (so a view keeps its offset and strides over it). */
function inArena(data: Float32Array): Float32Array {
  const block = arenaTake(data.length);
  if (block === null) throw new Error('the test expects the arena to hand out a block');
  block.set(data);
  return block;
}

/** `fn()` with the arena on or off (back on afterwards). */
function withArena<R>(enabled: boolean, fn: () => R): R {
  configureArena({ enabled });
  try {
    return fn();
  } finally {
    configureArena({ enabled: true });
  }
}

/** Bits of an f32 array, NaNs and signed zeros included. */
const bits = (a: ArrayLike<number>): number[] => [...new Uint32Array(Float32Array.from(a).buffer)];

describe('the shared memory and its arena', () => {
  test('growing a shared memory keeps views of its old buffer valid (same bytes, same length)', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64, shared: true });
    const old = new Float32Array(memory.buffer, 64, 16);
    old.fill(3.5);
    memory.grow(8);
    expect(old.length).toBe(16);
    expect(old.buffer.byteLength).toBe(65536);
    const now = new Float32Array(memory.buffer);
    expect(now.length).toBe((9 * 65536) / 4);
    expect(now[16]).toBe(3.5);
    old[1] = -2;
    expect(now[17]).toBe(-2);
    now[18] = 7;
    expect(old[2]).toBe(7);
  });

  test('blocks taken before the memory grows keep their values and stay the memory', () => {
    const first = arenaTake(1000)!;
    first.fill(1.25);
    const before = agentMemory().buffer.byteLength;
    // 8 MiB blocks until the memory has grown at least twice.
    const more: Float32Array[] = [];
    while (agentMemory().buffer.byteLength < before + 2 * 8 * 2 ** 20) more.push(arenaTake(2 * 2 ** 20)!);
    expect(first.every((x) => x === 1.25)).toBe(true);
    first[5] = 9;
    const byte = arenaBlock(first)!.byte;
    expect(new Float32Array(agentMemory().buffer)[(byte >> 2) + 5]).toBe(9);
    for (const b of [first, ...more]) expect(arenaRelease(b)).toBe(true);
  });

  test('accounting: blocks are counted live, come back by identity only (not views, not twice), and are reused by size', () => {
    const n = 5000;
    const s0 = arenaStats();
    const a = arenaTake(n)!;
    const block = arenaBlock(a)!;
    expect(block.byte).toBeGreaterThanOrEqual(ARENA_BASE);
    expect(block.byte % 64).toBe(0);
    expect(block.floats).toBeGreaterThanOrEqual(n);
    const s1 = arenaStats();
    expect(s1.liveBytes - s0.liveBytes).toBe(4 * block.floats);
    expect(arenaRelease(a.subarray(0, n))).toBe(false);
    expect(arenaRelease(new Float32Array(n))).toBe(false);
    expect(arenaRelease(a)).toBe(true);
    expect(arenaRelease(a)).toBe(false);
    expect(arenaBlock(a)).toBeNull();
    const s2 = arenaStats();
    expect(s2.liveBytes).toBe(s0.liveBytes);
    expect(s2.freeBytes - s1.freeBytes).toBe(4 * block.floats);
    const b = arenaTake(n)!;
    expect(arenaBlock(b)!.byte).toBe(block.byte);
    expect(arenaStats().usedBytes).toBe(s2.usedBytes);
    arenaRelease(b);
  });

  test('the pool takes large arrays from the arena and returns them there, never into its plain buckets', () => {
    clearF32Pool();
    const a = takeF32(4096);
    expect(arenaBlock(a)).not.toBeNull();
    const live = arenaStats().liveBytes;
    recycleF32(a);
    expect(pooledF32Bytes()).toBe(0);
    expect(arenaStats().liveBytes).toBeLessThan(live);
    // A view of a block is not the block: ignored by both.
    const b = takeF32(4096);
    recycleF32(b.subarray(0, 2048));
    expect(arenaBlock(b)).not.toBeNull();
    expect(pooledF32Bytes()).toBe(0);
    recycleF32(b);
    // Off: plain arrays, pooled as before.
    withArena(false, () => {
      const c = takeF32(4096);
      expect(arenaBlock(c)).toBeNull();
      expect(c.buffer).toBeInstanceOf(ArrayBuffer);
      recycleF32(c);
      expect(pooledF32Bytes()).toBe(4096 * 4);
    });
    clearF32Pool();
  });

  test('results in the arena: users read plain, non-shared copies, and a disposed result frees its block', async () => {
    const x = T.randn([64, 64], { generator: new T.Generator(3), device: 'cpu-arena' });
    const live = arenaStats().liveBytes;
    const y = T.matmul(x, x);
    expect(arenaBlock(y.storage.data as Float32Array)).not.toBeNull();
    expect(arenaStats().liveBytes).toBeGreaterThan(live);
    const sync = y.dataSync() as Float32Array;
    const later = (await y.data()) as Float32Array;
    for (const got of [sync, later]) {
      expect(got.buffer).toBeInstanceOf(ArrayBuffer);
      expect(got.buffer instanceof SharedArrayBuffer).toBe(false);
      expect(got.length).toBe(64 * 64);
    }
    expect(bits(sync)).toEqual(bits(later));
    y.dispose();
    expect(arenaStats().liveBytes).toBe(live);
    // The copies kept their values although the block is free (and may be reused).
    const z = T.matmul(x, x);
    expect(bits(z.dataSync())).toEqual(bits(sync));
    z.dispose();
    x.dispose();
  });

  test('a block dropped without release (a temporary, a storage never freed) returns to the free ranges once collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const n = 777_777;
    const before = arenaStats();
    (() => void arenaTake(n)!.fill(1))();
    expect(arenaStats().liveBytes).toBeGreaterThan(before.liveBytes);
    // Finalizers run in a later task, after a collection that found the block unreachable.
    for (let i = 0; i < 50 && arenaStats().liveBytes !== before.liveBytes; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(arenaStats().liveBytes).toBe(before.liveBytes);
    expect(arenaStats().freeBytes).toBeGreaterThan(before.freeBytes);
    // Its range is reused by the next block of its size.
    const used = arenaStats().usedBytes;
    arenaRelease(arenaTake(n)!);
    expect(arenaStats().usedBytes).toBe(used);
  });

  test('past the cap (or with the arena off) the pool hands out plain arrays', () => {
    withArena(false, () => {
      expect(arenaTake(5000)).toBeNull();
      const plain = takeF32(20000);
      expect(arenaBlock(plain)).toBeNull();
      expect(plain.buffer instanceof ArrayBuffer).toBe(true);
    });
    // 2^31 bytes of f32 cannot fit between ARENA_BASE and the cap.
    expect(arenaTake(2 ** 29)).toBeNull();
  });

  test('at the cap, free ranges of sizes never asked for again merge and serve other sizes; past it, plain arrays', () => {
    const used = arenaStats().usedBytes;
    configureArena({ limitBytes: used + 4 * 2 ** 20 });
    try {
      // Sizes that change from call to call (as in generation), until the region is used up.
      const taken: Float32Array[] = [];
      for (let i = 0; taken.length < 5000; i++) {
        const a = arenaTake(100_000 + 16 * i);
        if (a === null) break;
        a.fill(i);
        taken.push(a);
      }
      expect(taken.length).toBeLessThan(5000);
      expect(arenaBlock(takeF32(100_000))).toBeNull();
      // No two live blocks overlap: each still holds its own fill.
      taken.forEach((a, i) => expect(a[0] === i && a[a.length - 1] === i).toBe(true));
      const top = arenaStats().usedBytes;
      for (const a of taken) arenaRelease(a);
      // A size never taken before, larger than any one released range: served from merged ranges.
      const big = arenaTake(900_000)!;
      expect(big).not.toBeNull();
      expect(arenaBlock(big)!.byte + 4 * big.length).toBeLessThanOrEqual(ARENA_BASE + top);
      arenaRelease(big);
    } finally {
      configureArena({ limitBytes: Infinity });
    }
  });
});

/** Layouts of a 2-D operand: its data (with slack around), offset and strides. */
const LAYOUT_2D = ['dense', 'offset', 'transposed', 'sliced'] as const;
type Layout2d = (typeof LAYOUT_2D)[number];

function operand2d(rows: number, cols: number, layout: Layout2d, seed: number): GemmOperand {
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 4;
  const fill = (n: number): Float32Array => Float32Array.from({ length: n }, next);
  switch (layout) {
    case 'dense':
      return { data: fill(rows * cols), offset: 0, rowStride: cols, colStride: 1 };
    case 'offset':
      return { data: fill(rows * cols + 13), offset: 7, rowStride: cols, colStride: 1 };
    case 'transposed':
      return { data: fill(rows * cols), offset: 0, rowStride: 1, colStride: rows };
    case 'sliced':
      return { data: fill((2 * rows + 1) * (2 * cols + 1)), offset: 2 * cols + 2, rowStride: 2 * (2 * cols + 1), colStride: 2 };
  }
}

describe('products with operands and results in the arena', () => {
  test('give the same bits as with plain arrays, on every engine and build (C in place or copied, neighbours untouched)', () => {
    const dim = fc.oneof(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 25, max: 70 }), fc.constantFrom(8, 16, 40, 64));
    fc.assert(
      fc.property(
        fc.tuple(dim, fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 270 })), dim),
        fc.constantFrom(...LAYOUT_2D),
        fc.constantFrom(...LAYOUT_2D),
        fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 3 }),
        seedArb,
        fc.constantFrom(...VARIANTS),
        fc.constantFrom('single', 'split', 'batched' as const),
        ([m, k, n], la, lb, [aIn, bIn, cIn], entry, slackRows, seed, variant, kind) => {
          const engine: WasmGemm = ENGINES[variant][kind];
          const a = operand2d(m, k, la, seed);
          const b = operand2d(k, n, lb, seed + 1);
          // The result: `entry` products before this one, and `slackRows` rows of room after it.
          const total = (entry + 1) * m * n + slackRows * n;
          const want = new Float32Array(total).fill(-7);
          engine.matmul(m, n, k, a, b, want, entry * m * n);
          const out = cIn ? arenaTake(total)! : new Float32Array(total);
          out.fill(-7);
          const neighbour = arenaTake(64)!;
          neighbour.fill(5);
          const A = aIn ? { ...a, data: inArena(a.data as Float32Array) } : a;
          const B = bIn ? { ...b, data: inArena(b.data as Float32Array) } : b;
          engine.matmul(m, n, k, A, B, out, entry * m * n);
          expect(bits(out), `${variant} ${kind} ${m}x${n}x${k} ${la}/${lb} in arena: A ${aIn} B ${bIn} C ${cIn}`).toEqual(bits(want));
          expect(neighbour.every((x) => x === 5)).toBe(true);
          for (const x of [out, A.data, B.data, neighbour]) arenaRelease(x as Float32Array);
        },
      ),
      { numRuns: numRuns() },
    );
  });

  test('through the matmul kernel: arena and plain operands (batched, folded, broadcast, strided) give the same bits', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })),
        fc.constantFrom<Layout>('dense', 'offset', 'transposed', 'sliced', 'expanded'),
        fc.constantFrom<Layout>('dense', 'offset', 'transposed', 'sliced', 'expanded'),
        fc.boolean(),
        seedArb,
        fc.constantFrom(...VARIANTS),
        fc.constantFrom('single', 'split', 'batched' as const),
        ([bt, m, k, n], la, lb, batchedB, seed, variant, kind) => {
          const a = viewOf(makeView([bt, m, k], la, 'f32', seed));
          const b = viewOf(makeView(batchedB ? [bt, k, n] : [k, n], lb, 'f32', seed + 1));
          const out = { shape: [bt, m, n], dtype: 'f32' as const };
          const kernel = wasmMatmulKernel(() => ENGINES[variant][kind]);
          const want = withArena(false, () => kernel([a, b], undefined, out) as Float32Array);
          const twin = (v: TensorView): TensorView => ({ ...v, storage: { ...v.storage, data: inArena(v.storage.data as Float32Array) } });
          const [A, B] = [twin(a), twin(b)];
          const got = kernel([A, B], undefined, out) as Float32Array;
          expect(bits(got), `${variant} ${kind} ${la}/${lb}`).toEqual(bits(want));
          for (const x of [A.storage.data, B.storage.data, got]) arenaRelease(x as Float32Array);
        },
      ),
      { numRuns: numRuns() },
    );
  });
});

describe('attention heads with operands and results in the arena', () => {
  test('every op gives the same bits with arena and plain q/k/v/dO (permuted, sliced, offset), on 1 and 2 threads', () => {
    const heads = VARIANTS.map((v) => [ENGINES[v].single, ENGINES[v].split]).flat();
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 20 })),
        fc.constantFrom<HeadsOp>(0, 1, 2),
        fc.boolean(),
        fc.array(fc.constantFrom<Layout>('dense', 'offset', 'transposed', 'sliced'), { minLength: 4, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        seedArb,
        fc.integer({ min: 0, max: 3 }),
        ([B, H, t, s, d], op, causal, layouts, inArenaFlags, arenaOut, seed, which) => {
          const engine = heads[which]!;
          const dims: AttentionDims = { b: B, h: H, hkv: H, t, s, d, dv: d, group: 1 };
          const shapes = [[B, H, t, d], [B, H, s, d], [B, H, s, d], [B, H, t, d]];
          const views = shapes.map((shape, i) => makeView(shape, layouts[i]!, 'f32', seed + i));
          const lse = makeView([B, H, t], 'dense', 'f32', seed + 9, 'positive');
          const delta = makeView([B, H, t], 'dense', 'f32', seed + 10);
          const attrs = { scale: 1 / Math.sqrt(d), causal, hasMask: false, dropoutP: 0 };
          const inputs = (arena: boolean): TensorView[] => {
            const ops = (op === 0 ? views.slice(0, 3) : views).map((v, i): TensorView =>
              arena && inArenaFlags[i] ? { ...viewOf(v), storage: { ...v.storage, data: inArena(v.storage.data as Float32Array) } } : viewOf(v),
            );
            return op === 0 ? ops : [...ops, viewOf(lse), viewOf(delta)];
          };
          const plainIn = inputs(false);
          const want = withArena(false, () => attentionHeads(engine, op, op === 0 ? 1 : 0, plainIn, attrs, dims, engine.threads > 1));
          // The result is an arena block (min 1 element in this file) or, with the arena off, plain.
          const arenaIn = inputs(true);
          const got = withArena(arenaOut, () => attentionHeads(engine, op, op === 0 ? 1 : 0, arenaIn, attrs, dims, engine.threads > 1));
          expect(want).not.toBeNull();
          expect(arenaBlock(got!) !== null).toBe(arenaOut && got!.length >= 1024);
          expect(bits(got!), `op ${op} causal ${causal} ${layouts} arena ${inArenaFlags} out ${arenaOut}`).toEqual(bits(want!));
          for (const v of arenaIn) arenaRelease(v.storage.data as Float32Array);
          arenaRelease(got!);
        },
      ),
      { numRuns: numRuns() },
    );
  });
});

describe('the other kernels on arena operands', () => {
  test('elementwise, reductions, softmax, GELU, layerNorm, cross-entropy, concat, copies and products give the same bits on arena and plain inputs (offset, permuted and sliced views of them)', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 4, max: 8 }), fc.integer({ min: 128, max: 260 })),
        fc.constantFrom('dense', 'offset', 'transposed', 'sliced'),
        seedArb,
        ([a, b, c], layout, seed) => {
          const run = (arena: boolean): number[][] =>
            withArena(arena, () => T.tidy(() => {
              const next = rng(seed);
              const device = 'cpu-arena';
              const upload = (shape: number[]): Tensor => T.tensor(Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => next() * 6 - 3), { shape, device });
              // x * 1 is exact: the same values in a result array (an arena block when the arena is on).
              const held = (shape: number[]): Tensor => T.mul(upload(shape), 1);
              const view = (): Tensor => {
                switch (layout) {
                  case 'dense':
                    return held([a, b, c]);
                  case 'offset':
                    return held([a + 1, b, c]).slice(0, 1, a + 1);
                  case 'transposed':
                    return held([c, b, a]).permute([2, 1, 0]);
                  default:
                    return held([a, b, 2 * c]).slice(2, 0, 2 * c, 2);
                }
              };
              const [x, y] = [view(), view()];
              expect(arenaBlock(x.storage.data as Float32Array) !== null).toBe(arena);
              const [w, bias, W] = [upload([c]), upload([c]), held([c, 24])];
              const targets = T.tensor(Array.from({ length: a * b }, () => Math.floor(next() * c)), { shape: [a * b], dtype: 'i32', device });
              const results = [
                T.add(x, y),
                T.mul(x, w),
                T.exp(x),
                T.sum(x, [2]),
                T.sum(x, [0, 1]),
                T.softmax(x),
                T.gelu(x, { approximate: 'tanh' }),
                T.layerNorm(x, w, bias),
                T.concat([x, y], 1),
                x.contiguous(),
                T.matmul(x, W),
                T.crossEntropy(x.reshape([a * b, c]), targets),
              ];
              return results.map((r) => bits(r.dataSync()));
            }));
          expect(run(true)).toEqual(run(false));
        },
      ),
      { numRuns: numRuns(40) },
    );
  });
});

/** The kernel-facing view of a tensor. */
const viewOf = (t: Tensor): TensorView => ({ storage: t.storage, shape: t.shape, strides: t.strides, offset: t.offset, dtype: t.dtype });
