// Tensors larger than one binding (issue #3): with the binding limit lowered to 4 KiB, every op a
// training step over a big embedding / lm_head touches runs in windowed pieces and equals the CPU
// backend; an op that cannot split says so (BindingLimitError) instead of failing WebGPU validation.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { valueAndGrad } from '@tessera/autograd';
import type { DType, Tensor } from '@tessera/tensor';
import { BindingLimitError } from '../src/index.js';
import { expectSame, gpuOrNull, layoutArb, makeView, numRuns, sameOnBoth, type Layout } from './cross-backend.js';
import { settleDroppedTensors } from './settle-dropped.js';

/** 1024 f32 per binding: the tensors below span several windows. */
const LIMIT = 4096;
const gpu = await gpuOrNull({ bindingLimitBytes: LIMIT });
afterAll(() => gpu?.destroy());
const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const runs = { numRuns: numRuns() };

const prop = <A extends unknown[]>(arbs: { [K in keyof A]: fc.Arbitrary<A[K]> }, body: (...args: A) => Promise<void>) =>
  fc.assert(fc.asyncProperty(...(arbs as [fc.Arbitrary<unknown>]), body as (...a: unknown[]) => Promise<void>), runs);

/** Shapes of rank 1-3 holding 1.5k-7k elements: 1.5 to 7 bindings of f32. */
const bigShapeArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.tuple(fc.integer({ min: 1500, max: 7000 })).map(([n]) => [n]),
  fc.tuple(fc.integer({ min: 20, max: 90 }), fc.integer({ min: 75, max: 80 })),
  fc.tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 17, max: 40 }), fc.integer({ min: 30, max: 41 })),
);

/** Storage bytes of a tensor's buffer on the GPU. */
const bytesOf = (t: Tensor): number => (t.storage.data as GPUBuffer).size;

describe.skipIf(gpu === null)('binding windows: map kernels', () => {
  test('the tensors here are larger than one binding, and a unary op runs in several pieces', async () => {
    const x = makeView('webgpu', [40, 80], 'dense', 'f32', 1);
    expect(bytesOf(x)).toBeGreaterThan(LIMIT);
    const before = gpu!.context.counters.dispatches;
    const y = T.exp(x);
    expect(gpu!.context.counters.dispatches - before).toBeGreaterThanOrEqual(4);
    await sameOnBoth('exp', (d) => T.exp(makeView(d, [40, 80], 'dense', 'f32', 1)));
    x.dispose();
    y.dispose();
  });

  const UNARY_DTYPES: DType[] = ['f32', 'f16', 'bf16', 'i32', 'u8'];
  test('unary (neg) over every layout and dtype', () =>
    prop([bigShapeArb, layoutArb, fc.constantFrom(...UNARY_DTYPES), seedArb], async (shape, layout, dtype, seed) => {
      await sameOnBoth(`neg ${dtype} [${shape}] ${layout}`, (d) => T.neg(makeView(d, shape, layout, dtype, seed)));
    }));

  test('binary (mul, lt) with broadcast and strided operands', () =>
    prop([bigShapeArb, layoutArb, layoutArb, fc.constantFrom<DType>('f32', 'f16', 'i32'), fc.boolean(), seedArb], async (shape, la, lb, dtype, broadcast, seed) => {
      // Broadcast: b keeps only the last dim (a bias), or a leading column.
      const bShape = broadcast ? (shape.length > 1 && seed % 2 === 0 ? [shape[0]!, ...shape.slice(1).map(() => 1)] : shape.slice(-1)) : shape;
      await sameOnBoth(`mul ${dtype} [${shape}] ${la} × [${bShape}] ${lb}`, (d) => T.mul(makeView(d, shape, la, dtype, seed), makeView(d, bShape, lb, dtype, seed + 1)));
      await sameOnBoth(`lt ${dtype} [${shape}] ${la} × [${bShape}] ${lb}`, (d) => T.lt(makeView(d, shape, la, dtype, seed), makeView(d, bShape, lb, dtype, seed + 1)));
    }));

  test('where with three layouts', () =>
    prop([bigShapeArb, layoutArb, layoutArb, layoutArb, seedArb], async (shape, lc, la, lb, seed) => {
      await sameOnBoth(`where [${shape}] ${lc} ${la} ${lb}`, (d) =>
        T.where(makeView(d, shape, lc, 'bool', seed), makeView(d, shape, la, 'f32', seed + 1), makeView(d, shape, lb, 'f32', seed + 2)),
      );
    }));

  const CASTS: [DType, DType][] = [['f32', 'f16'], ['f16', 'f32'], ['f32', 'bf16'], ['f32', 'u8'], ['i32', 'f32'], ['f32', 'f64'], ['f64', 'f32'], ['f16', 'f16']];
  test('cast and copy (contiguous) between dtypes, packed outputs from transposed inputs included', () =>
    prop([bigShapeArb, layoutArb, fc.constantFrom(...CASTS), seedArb], async (shape, layout, [from, to], seed) => {
      await sameOnBoth(`cast ${from}->${to} [${shape}] ${layout}`, (d) => T.cast(makeView(d, shape, layout, from, seed), to));
      await sameOnBoth(`contiguous ${from} [${shape}] ${layout}`, (d) => T.contiguous(makeView(d, shape, layout, from, seed)));
    }));

  test('concat of strided inputs into a result larger than a binding (unpacked dtypes), along any axis', () =>
    prop([bigShapeArb, layoutArb, layoutArb, fc.nat(), fc.constantFrom<DType>('f32', 'i32'), seedArb], async (shape, la, lb, pick, dtype, seed) => {
      const axis = pick % shape.length;
      const other = shape.map((d, i) => (i === axis ? 1 + (pick % 7) : d));
      await sameOnBoth(`concat ${dtype} [${shape}] ${la} + [${other}] ${lb} axis ${axis}`, (d) => T.concat([makeView(d, shape, la, dtype, seed), makeView(d, other, lb, dtype, seed + 1)], axis));
    }));

  test('pad of strided inputs into a result larger than a binding (packed dtypes included)', () =>
    prop([bigShapeArb, layoutArb, fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 3, maxLength: 3 }), fc.constantFrom<DType>('f32', 'f16', 'u8'), seedArb], async (shape, layout, pads, dtype, seed) => {
      const p = pads.slice(0, shape.length) as [number, number][];
      await sameOnBoth(`pad ${dtype} [${shape}] ${layout} ${JSON.stringify(p)}`, (d) => T.pad(makeView(d, shape, layout, dtype, seed), p, 1.5));
    }));

  test('the gradient of a stepped slice (pad with interior padding) of a tensor larger than a binding', () =>
    prop([bigShapeArb, fc.integer({ min: 1, max: 3 }), seedArb], async (shape, step, seed) => {
      const grads = await Promise.all(
        ['cpu', 'webgpu'].map(async (d) => {
          const x = makeView(d, shape, 'dense', 'f32', seed);
          const [, [dx]] = valueAndGrad((t: Tensor) => {
            const y = t.slice(0, 1, shape[0]!, step);
            return T.sum(T.mul(y, makeView(d, y.shape, 'dense', 'f32', seed + 1)));
          })(x);
          return dx!;
        }),
      );
      await expectSame(grads[0]!, grads[1]!, `d slice(0, 1, ${shape[0]}, ${step}) of [${shape}]`);
    }));

  test('full, arange and random fill tensors larger than a binding', async () => {
    await sameOnBoth('full', (d) => T.full([70, 90], 2.5, { device: d }));
    await sameOnBoth('zeros f16', (d) => T.zeros([3001], { device: d, dtype: 'f16' }));
    await sameOnBoth('arange', (d) => T.arange(0, 5000, 1, { device: d, dtype: 'i32' }));
    await sameOnBoth('randn', (d) => T.randn([60, 90], { device: d, generator: new T.Generator(7) }), [1e-4, 1e-4]);
    await sameOnBoth('rand bf16', (d) => T.rand([4001], { device: d, dtype: 'bf16', generator: new T.Generator(8) }));
  });
});

describe.skipIf(gpu === null)('binding windows: reductions', () => {
  const REDUCTIONS: [string, (x: Tensor, axes: number[]) => Tensor][] = [
    ['sum', (x, a) => T.sum(x, a)],
    ['max', (x, a) => T.max(x, a)],
    ['min', (x, a) => T.min(x, a, true)],
  ];
  // Axes as sum-to-shape and the losses use them: the last dim, the leading dims, all, a middle one.
  const axesOf = (rank: number, pick: number): number[] =>
    [[rank - 1], [0], Array.from({ length: rank }, (_, i) => i), rank > 2 ? [1] : [0], rank > 1 ? [0, rank - 1] : [0]][pick]!;

  test('sum/max/min over last, leading, all and middle dims of strided tensors', () =>
    prop([bigShapeArb, layoutArb, fc.integer({ min: 0, max: 4 }), fc.constantFrom(...REDUCTIONS), fc.constantFrom<DType>('f32', 'i32', 'f16'), seedArb], async (shape, layout, pick, [name, fn], dtype, seed) => {
      const axes = axesOf(shape.length, pick);
      // Sums of thousands of f32 values round differently in another order.
      const tol: [number, number] | undefined = name === 'sum' && dtype !== 'i32' ? [1e-4, 2e-3] : undefined;
      await sameOnBoth(`${name} ${dtype} [${shape}] ${layout} axes [${axes}]`, (d) => fn(makeView(d, shape, layout, dtype, seed), axes), tol);
    }));

  test('argmax/argmin along the last or the first dim (a row strided wider than a window runs on a copy)', () =>
    // Rank >= 2: one row of a 1-D shape here exceeds a window (see the error cases).
    prop([bigShapeArb.filter((s) => s.length > 1), layoutArb, fc.boolean(), fc.boolean(), fc.constantFrom<DType>('f32', 'i32', 'bf16'), seedArb], async (shape, layout, last, max, dtype, seed) => {
      const axis = last ? -1 : 0;
      await sameOnBoth(`${max ? 'argmax' : 'argmin'} ${dtype} [${shape}] ${layout} axis ${axis}`, (d) => (max ? T.argmax : T.argmin)(makeView(d, shape, layout, dtype, seed), axis));
    }));

  test('a sum over 100 windows of one output folds partial sums', async () => {
    await sameOnBoth('sum all', (d) => T.sum(makeView(d, [300, 400], 'dense', 'f32', 3, 'unit')), [1e-4, 1e-3]);
    await sameOnBoth('sum dim 0', (d) => T.sum(makeView(d, [3000, 40], 'transposed', 'f32', 4, 'unit'), 0), [1e-4, 1e-3]);
    // Regression (found by fast-check): outputs wider than a window, each over 2 elements a window
    // apart; partials laid out (pieces, outputs) folded into as many partials, forever.
    await sameOnBoth('sum dim 0 of [2, 3000]', (d) => T.sum(makeView(d, [2, 3000], 'dense', 'f32', 5), 0));
    await sameOnBoth('max dim 0 of [3000, 7]', (d) => T.max(makeView(d, [3000, 7], 'dense', 'f32', 6), 0));
  });
});

describe.skipIf(gpu === null)('binding windows: embedding lookup (gather) and its gradient (scatterAdd)', () => {
  /** Tables of 1.3k-6k elements: 1.3 to 6 bindings of f32. */
  const tableArb = fc.tuple(fc.integer({ min: 40, max: 150 }), fc.integer({ min: 33, max: 40 }));
  const idsArb = fc.array(fc.nat(), { minLength: 1, maxLength: 40 });
  const idsOf = (d: string, raw: number[], rows: number) => T.tensor(raw.map((v) => v % rows), { dtype: 'i32', device: d });

  test('embedding rows of a table larger than a binding, every layout and dtype', () =>
    prop([tableArb, fc.constantFrom<Layout>('dense', 'offset', 'sliced', 'transposed'), fc.constantFrom<DType>('f32', 'bf16', 'i32'), idsArb, seedArb], async ([v, dim], layout, dtype, raw, seed) => {
      await sameOnBoth(`embedding ${dtype} [${v},${dim}] ${layout} ids ${raw.length}`, (d) => T.embedding(idsOf(d, raw, v), makeView(d, [v, dim], layout, dtype, seed)));
    }));

  test('gather along axis 0 with a full index, and an output larger than a binding', () =>
    prop([tableArb, fc.integer({ min: 1, max: 3 }), seedArb], async ([v, dim], reps, seed) => {
      const index = (d: string) => T.tensor(Array.from({ length: reps * v * dim }, (_, i) => (i * 7919 + seed) % v), { shape: [reps * v, dim], dtype: 'i32', device: d });
      await sameOnBoth(`gather [${v},${dim}] x${reps}`, (d) => T.gather(makeView(d, [v, dim], 'dense', 'f32', seed), 0, index(d)));
    }));

  test('scatterAdd into a table larger than a binding (the embedding gradient), repeated ids included', () =>
    prop([tableArb, idsArb, seedArb], async ([v, dim], raw, seed) => {
      const index = (d: string) => T.expand(idsOf(d, raw, v).reshape([raw.length, 1]), [raw.length, dim]);
      await sameOnBoth(
        `scatterAdd [${v},${dim}] ids ${raw.length}`,
        (d) => T.scatterAdd(makeView(d, [v, dim], 'dense', 'f32', seed), 0, index(d), makeView(d, [raw.length, dim], 'dense', 'f32', seed + 1)),
        [1e-5, 1e-5],
      );
    }));
});

describe.skipIf(gpu === null)('binding windows: row kernels (softmax, logSoftmax, layerNorm, rmsNorm)', () => {
  const ROW_TOL: [number, number] = [1e-4, 1e-5];
  test('over rows of tensors larger than a binding, strided and along any axis', () =>
    // Rows along the first dim, or of a transposed view, span more than a window: they run on a copy with the axis last.
    prop([bigShapeArb.filter((s) => s.length > 1), layoutArb, fc.boolean(), fc.constantFrom<DType>('f32', 'f16'), seedArb], async (shape, layout, lastAxis, dtype, seed) => {
      const axis = lastAxis ? -1 : 0;
      const tol: [number, number] | undefined = dtype === 'f32' ? ROW_TOL : undefined;
      const x = (d: string) => makeView(d, shape, layout, dtype, seed);
      await sameOnBoth(`softmax ${dtype} [${shape}] ${layout} axis ${axis}`, (d) => T.softmax(x(d), axis), tol);
      await sameOnBoth(`logSoftmax ${dtype} [${shape}] ${layout} axis ${axis}`, (d) => T.logSoftmax(x(d), axis), tol);
      // The norms in f32 only: f16 layerNorm differs from the CPU beyond f16 tolerance even unsplit
      // (the CPU rounds its intermediates). Expanded rows are constant: zero variance amplifies rounding.
      if (dtype !== 'f32') return;
      const w32 = (d: string) => makeView(d, [shape.at(-1)!], 'dense', 'f32', seed + 1);
      if (layout !== 'expanded') await sameOnBoth(`layerNorm [${shape}] ${layout}`, (d) => T.layerNorm(x(d), w32(d), w32(d)), [1e-4, 1e-4]);
      await sameOnBoth(`rmsNorm [${shape}] ${layout}`, (d) => T.rmsNorm(x(d), w32(d)), [1e-4, 1e-4]);
    }));
});

describe.skipIf(gpu === null)('binding windows: matmul with a big weight', () => {
  const MM_TOL: [number, number] = [1e-4, 1e-4];
  const dims = fc.record({ m: fc.integer({ min: 1, max: 40 }), k: fc.integer({ min: 20, max: 80 }), n: fc.integer({ min: 30, max: 120 }) });
  const mmLayout = fc.constantFrom<Layout>('dense', 'transposed', 'offset');

  test('a (M×K) · b (K×N) with b, a or the result larger than a binding (split along M, N and K)', () =>
    prop([dims, mmLayout, mmLayout, fc.boolean(), seedArb], async ({ m, k, n }, la, lb, batched, seed) => {
      const aShape = batched ? [2, m, k] : [m, k];
      await sameOnBoth(`matmul [${aShape}] ${la} · [${k},${n}] ${lb}`, (d) => T.matmul(makeView(d, aShape, batched ? 'dense' : la, 'f32', seed, 'unit'), makeView(d, [k, n], lb, 'f32', seed + 1, 'unit')), MM_TOL);
    }));

  test('tied lm_head products: h·Wᵀ, dY·W (K split) and hᵀ·dY (result split), f32 and bf16', () =>
    prop([fc.integer({ min: 40, max: 160 }), fc.integer({ min: 20, max: 40 }), fc.integer({ min: 1, max: 24 }), fc.constantFrom<DType>('f32', 'bf16'), seedArb], async (v, dim, tokens, dtype, seed) => {
      const tol: [number, number] = dtype === 'bf16' ? [2e-2, 2e-2] : MM_TOL;
      const w = (d: string) => makeView(d, [v, dim], 'dense', dtype, seed, 'unit');
      await sameOnBoth(`h·Wᵀ ${dtype} V=${v} D=${dim} T=${tokens}`, (d) => T.matmul(makeView(d, [tokens, dim], 'dense', dtype, seed + 1, 'unit'), T.transpose(w(d), 0, 1)), tol);
      await sameOnBoth(`dY·W ${dtype} V=${v} D=${dim} T=${tokens}`, (d) => T.matmul(makeView(d, [tokens, v], 'dense', dtype, seed + 2, 'unit'), w(d)), tol);
      await sameOnBoth(`hᵀ·dY ${dtype} V=${v} D=${dim} T=${tokens}`, (d) => T.matmul(T.transpose(makeView(d, [tokens, dim], 'dense', dtype, seed + 1, 'unit'), 0, 1), makeView(d, [tokens, v], 'dense', dtype, seed + 2, 'unit')), tol);
    }));
});

describe.skipIf(gpu === null)('binding windows: a training step over an embedding table larger than a binding', () => {
  // Table (V, D) of 4800 f32 (~5 bindings), tied as the lm_head; logits (tokens, V) of ~3 bindings.
  const [vocab, dim, tokens] = [120, 40, 24];
  const ids = Array.from({ length: tokens }, (_, i) => (i * 37 + 5) % vocab);
  const next = Array.from({ length: tokens }, (_, i) => (i * 53 + 11) % vocab);
  const hyper = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, step: 1 };

  /** Loss of a tied-embedding language model: embedding → rmsNorm → h·Wᵀ → cross-entropy. */
  const loss = (ids: Tensor, targets: Tensor) => (table: Tensor, gain: Tensor) =>
    T.crossEntropy(T.matmul(T.rmsNorm(T.embedding(ids, table), gain), T.transpose(table, 0, 1)), targets);

  test('forward gather + tied lm_head + cross-entropy + backward + AdamW match the CPU', async () => {
    const results: Tensor[][] = [];
    for (const d of ['cpu', 'webgpu']) {
      const table = makeView(d, [vocab, dim], 'dense', 'f32', 11, 'unit');
      const gain = T.add(T.mul(makeView(d, [dim], 'dense', 'f32', 12, 'unit'), 0.1), 1);
      if (d === 'webgpu') expect(bytesOf(table)).toBeGreaterThan(4 * LIMIT);
      expect(tokens * vocab * 4).toBeGreaterThan(2 * LIMIT); // the logits too
      const idT = T.tensor(ids, { dtype: 'i32', device: d });
      const targets = T.tensor(next, { dtype: 'i32', device: d });
      const [value, [dTable, dGain]] = valueAndGrad(loss(idT, targets))(table, gain);
      const m = T.mul(makeView(d, [vocab, dim], 'dense', 'f32', 13, 'unit'), 0.01);
      const v = T.mul(T.abs(makeView(d, [vocab, dim], 'dense', 'f32', 14, 'unit')), 0.01);
      const step = T.adamwStep(table, dTable!, m, v, hyper);
      results.push([value, dTable!, dGain!, step.param, step.m, step.v]);
    }
    const names = ['loss', 'dTable', 'dGain', 'table after AdamW', 'm', 'v'];
    for (let i = 0; i < names.length; i++) await expectSame(results[0]![i]!, results[1]![i]!, names[i]!, [2e-4, 2e-5]);
  });

  test('split steps leak no tensors and no GPU buffers (temporaries of every split path are released)', async () => {
    const d = 'webgpu';
    let table = makeView(d, [vocab, dim], 'dense', 'f32', 21, 'unit');
    const gain = T.ones([dim], { device: d });
    let m = T.zerosLike(table);
    let v = T.zerosLike(table);
    const idT = T.tensor(ids, { dtype: 'i32', device: d });
    const targets = T.tensor(next, { dtype: 'i32', device: d });
    const step = async (n: number) => {
      const [value, [dTable, dGain]] = valueAndGrad(loss(idT, targets))(table, gain);
      const r = T.adamwStep(table, dTable!, m, v, { ...hyper, step: n });
      [table, m, v, dTable!, dGain!].forEach((t) => t.dispose());
      [table, m, v] = [r.param, r.m, r.v];
      // Reductions over all of a big tensor, a softmax over its first dim, a transposed copy.
      const extra = T.tidy(() => T.add(T.sum(T.softmax(table, 0)), T.sum(T.contiguous(T.transpose(table, 0, 1)))));
      await extra.data();
      extra.dispose();
      await value.data();
      value.dispose();
    };
    await settleDroppedTensors(() => gpu!.memory().liveBytes); // earlier tests' garbage
    await step(1);
    await gpu!.sync!();
    const tensors = T.memory().backends.webgpu?.numUndisposed;
    const bytes = gpu!.memory().liveBytes;
    await step(2);
    await gpu!.sync!();
    expect(T.memory().backends.webgpu?.numUndisposed).toBe(tensors);
    expect(gpu!.memory().liveBytes).toBe(bytes);
    [table, m, v, gain, idT, targets].forEach((t) => t.dispose());
  });

  test('the fused AdamW update splits a parameter larger than a binding', async () => {
    const make = (d: string) => [1, 2, 3, 4].map((s) => (s === 4 ? T.abs(makeView(d, [vocab, dim], 'dense', 'f32', s)) : makeView(d, [vocab, dim], 'dense', 'f32', s)));
    const [cp, cg, cm, cv] = make('cpu');
    const [wp, wg, wm, wv] = make('webgpu');
    await Promise.all([wp, wg, wm, wv].map((t) => t!.data()));
    const before = gpu!.context.counters.dispatches;
    const w = T.adamwStep(wp!, wg!, wm!, wv!, hyper);
    // Fused (3 updates, each in several pieces), not the ~12 composed elementwise ops.
    expect(gpu!.context.counters.dispatches - before).toBeGreaterThanOrEqual(3 * 5);
    const c = T.adamwStep(cp!, cg!, cm!, cv!, hyper);
    await expectSame(c.param, w.param, 'param');
    await expectSame(c.m, w.m, 'm');
    await expectSame(c.v, w.v, 'v');
  });
});

describe.skipIf(gpu === null)('binding windows: ops that do not split say so', () => {
  const big = (d: string) => makeView(d, [30, 100], 'dense', 'f32', 5);
  // [op, call on a [30, 100] f32 tensor, the shape its message names]
  const CASES: [string, (x: Tensor) => Tensor, string][] = [
    ['concat', (x) => T.concat([T.cast(x, 'f16'), T.cast(x, 'f16')], 0), '[60,100] f16'],
    // One row (3000 elements) larger than a window.
    ['argmax', (x) => T.argmax(x.reshape([3000])), '[3000]'],
  ];
  for (const [name, fn, shape] of CASES) {
    test(`${name} on an operand larger than a binding throws a BindingLimitError naming the op, the shapes, the limit and the fix`, () => {
      const x = big('webgpu');
      let message = '';
      try {
        fn(x);
      } catch (err) {
        expect(err).toBeInstanceOf(BindingLimitError);
        message = (err as Error).message;
      }
      expect(message).toContain(name);
      expect(message).toContain(shape);
      expect(message).toContain(`binding limit of ${LIMIT} bytes`);
      expect(message).toMatch(/raise bindingLimitBytes/);
      x.dispose();
    });
  }
});
