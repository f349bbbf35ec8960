// Out-of-range indices on any gpujs backend: gather, scatterAdd and crossEntropy (its targets) cannot
// throw inside a kernel, so check launches record the first bad index and the next read or sync raises
// it (src/index-bounds.ts).
// The property holds the message to the CPU backend's (same op, value, position, axis size and fix) on
// random shapes, index dtypes and layouts (transposed, broadcast); the named tests pin the timing.
// Cases come from @tessera/autograd/testing (shared with kernels-webgpu's gather-bounds test). Only
// `test`, `expect(..).toBe/toEqual` and `expect.fail` are used, so the browser page can run it.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { buildIndexCase, cpuError, indexCaseArb, indexView, type IndexCase } from '@tessera/autograd/testing';
import { expectSame, numRuns } from './cross-backend.js';

/** The rejection of `p` (null when it resolves). */
const rejection = (p: Promise<unknown>): Promise<Error | null> => p.then(() => null, (e: Error) => e);

/** 0, 1, ..., n-1 as f32. */
const iota = (n: number, device: string) => T.arange(0, n, 1, { dtype: 'f32', device });

const indexOps: Record<'gather' | 'scatterAdd', (c: IndexCase, dev: string) => Tensor> = {
  gather: (c, dev) => {
    const { axis, idxShape, values } = buildIndexCase(c);
    return T.gather(iota(T.numel(c.xShape), dev).reshape(c.xShape), axis, indexView(dev, values, idxShape, c.dtype, c.layout));
  },
  scatterAdd: (c, dev) => {
    const { axis, idxShape, values } = buildIndexCase(c);
    return T.scatterAdd(T.zeros(c.xShape, { device: dev }), axis, indexView(dev, values, idxShape, c.dtype, c.layout), iota(T.numel(idxShape), dev).reshape(idxShape));
  },
};

/** A cross-entropy problem: logits (...lead, classes), targets drawn in and around [0, classes), some ignored. */
const targetCaseArb = fc
  .record({
    lead: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
    classes: fc.integer({ min: 1, max: 6 }),
    // -100 is PyTorch's default; an in-range or just-out-of-range ignoreIndex must also be honoured.
    ignore: fc.constantFrom(-100, -1, 0, 6),
    backward: fc.boolean(),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      // Mostly valid targets (so the result path is covered too), some negative or >= classes.
      targets: fc.array(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: c.classes - 1 }) }, fc.integer({ min: -3, max: c.classes + 2 }), fc.constant(c.ignore)), {
        minLength: T.numel(c.lead),
        maxLength: T.numel(c.lead),
      }),
    }),
  );

type TargetCase = typeof targetCaseArb extends fc.Arbitrary<infer V> ? V : never;

/** The per-position losses, or the logits gradient, of a target case on `dev`. */
function crossEntropyOn({ c, targets }: TargetCase, dev: string): Tensor {
  const ramp = T.arange(0, T.numel(c.lead) * c.classes, 1, { dtype: 'f32', device: dev }).reshape([...c.lead, c.classes]);
  const logits = T.sin(T.mul(ramp, 0.25));
  const t = T.tensor(targets, { shape: c.lead, dtype: 'i32', device: dev });
  const attrs = { ignoreIndex: c.ignore, labelSmoothing: 0.1 };
  if (!c.backward) return T.apply(T.OPS.crossEntropyLosses, [logits, t], attrs);
  return T.apply(T.OPS.crossEntropyBackward, [logits, t, T.ones(c.lead, { device: dev })], attrs);
}

/** Registers the index-bounds tests for the gpujs backend named `device`. */
export function indexBoundsProperties(device: string): void {
  for (const name of ['gather', 'scatterAdd'] as const) {
    test(`${name}: the next read raises the CPU backend's error for the first bad index, or the results match`, () =>
      fc.assert(
        fc.asyncProperty(indexCaseArb, async (c) => {
          const expected = cpuError(() => indexOps[name](c, 'cpu'));
          const out = T.tidy(() => indexOps[name](c, device));
          try {
            if (expected === null) {
              const want = Array.from(T.tidy(() => indexOps[name](c, 'cpu')).dataSync() as ArrayLike<number>);
              expect(Array.from((await out.data()) as ArrayLike<number>), `${name} ${JSON.stringify(c)}`).toEqual(want);
            } else {
              const err = await rejection(out.data());
              expect(err instanceof RangeError, `${name} ${JSON.stringify(c)}: a RangeError (got ${String(err)}), expected: ${expected}`).toBe(true);
              if (!err!.message.startsWith(expected)) expect.fail(`${err!.message}\n  should start with\n${expected}`);
            }
          } finally {
            out.dispose();
          }
        }),
        { numRuns: numRuns() },
      ));
  }

  test("crossEntropy (losses and backward): the next read raises the CPU backend's error for the first bad target, or the results match", () =>
    fc.assert(
      fc.asyncProperty(targetCaseArb, async (k) => {
        const what = `crossEntropy ${JSON.stringify(k)}`;
        const expected = cpuError(() => crossEntropyOn(k, 'cpu'));
        const out = T.tidy(() => crossEntropyOn(k, device));
        try {
          if (expected === null) {
            const want = T.tidy(() => crossEntropyOn(k, 'cpu'));
            try {
              await expectSame(want, out, what, [1e-5, 1e-5]);
            } finally {
              want.dispose();
            }
          } else {
            const err = await rejection(out.data());
            expect(err instanceof RangeError, `${what}: a RangeError (got ${String(err)}), expected: ${expected}`).toBe(true);
            if (!err!.message.startsWith(expected)) expect.fail(`${err!.message}\n  should start with\n${expected}`);
          }
        } finally {
          out.dispose();
        }
      }),
      { numRuns: numRuns() },
    ));

  test('crossEntropy: a target of 7 for 4 classes is reported at the next read with its position', async () => {
    const logits = T.zeros([2, 3, 4], { device });
    const targets = T.tensor([[0, 1, 2], [3, -100, 7]], { dtype: 'i32', device });
    const loss = T.crossEntropy(logits, targets);
    const err = await rejection(loss.data());
    const want = 'crossEntropy: index 7 at position [1,2] of the index [2,3] is out of range for axis 2 of size 4; expected 0 <= index < 4. (gpujs: the kernel ran with the target read';
    expect(err?.message.startsWith(want), `${err?.message}\n  should start with\n${want}`).toBe(true);
    for (const t of [logits, targets, loss]) t.dispose();
  });

  test('a 1000-element index (four chunks of the check) with bad values at 300, 700 and 900 reports 300', async () => {
    const table = iota(10, device);
    const values = Array.from({ length: 1000 }, (_, i) => i % 10);
    [values[300], values[700], values[900]] = [13, -1, 99];
    const idx = T.tensor(values, { dtype: 'i32', device });
    const rows = T.gather(table, 0, idx);
    const err = await rejection(rows.data());
    const cpuWant = 'gather: index 13 at position [300] of the index [1000] is out of range for axis 0 of size 10; expected 0 <= index < 10';
    expect(cpuError(() => T.gather(iota(10, 'cpu'), 0, T.tensor(values, { dtype: 'i32', device: 'cpu' }))), 'the CPU backend').toBe(cpuWant);
    const want = `${cpuWant}. (gpujs: `;
    expect(err?.message.startsWith(want), `${err?.message}\n  should start with\n${want}`).toBe(true);
    for (const t of [table, idx, rows]) t.dispose();
  });

  test('the error surfaces at the next read of any tensor, then clears', async () => {
    const table = iota(12, device).reshape([4, 3]);
    const ids = T.tensor([1, 7, 2], { dtype: 'i32', device });
    const rows = T.embedding(ids, table); // (3, 3): row 7 of a 4-row table
    const other = T.add(table, 1);
    const err = await rejection(other.data());
    const want = 'gather: index 7 at position [1,0] of the index [3,3] is out of range for axis 0 of size 4; expected 0 <= index < 4. (gpujs: ';
    expect(err?.message.startsWith(want), `${err?.message}\n  should start with\n${want}`).toBe(true);
    // Reading raised and dropped the pending check: clean work reads fine again.
    expect(Array.from((await other.data()) as ArrayLike<number>)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const t of [table, ids, rows, other]) t.dispose();
  });

  test('sync() raises it too; of two bad ops before a read, the first is reported', async () => {
    const backend = T.getBackend(device);
    const x = T.zeros([2, 3], { device });
    const idx = T.tensor([[0, -2, 1]], { dtype: 'i32', device });
    const later = T.tensor([[5, 0, 0]], { dtype: 'i32', device });
    const ones = T.ones([1, 3], { device });
    const a = T.gather(x, 1, idx);
    const b = T.scatterAdd(x, 0, later, ones);
    const first = await rejection(backend.sync!());
    expect(/^gather: index -2 at position \[0,1\] of the index \[1,3\] is out of range for axis 1 of size 3; expected 0 <= index < 3; negative indices are not allowed/.test(first?.message ?? ''), String(first?.message)).toBe(true);
    const c = T.scatterAdd(x, 0, later, ones);
    const second = await rejection(backend.sync!());
    expect(/^scatterAdd: index 5 at position \[0,0\] of the index \[1,3\] is out of range for axis 0 of size 2/.test(second?.message ?? ''), String(second?.message)).toBe(true);
    expect(await rejection(backend.sync!()), 'a third sync').toBe(null);
    for (const t of [x, idx, later, ones, a, b, c]) t.dispose();
  });
}
