// Out-of-range indices on WebGPU: gather and scatterAdd cannot throw inside a shader, so a check
// dispatch records the first bad index and the next read or sync raises it. The property holds the
// message to the CPU backend's (same op, value, position, axis size and fix) on random shapes,
// index dtypes and layouts (transposed, broadcast; cases from @tessera/autograd/testing, shared with
// kernels-gpujs); the named tests pin the lazy timing.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { buildIndexCase, cpuError, indexCaseArb, indexView, type IndexCase } from '@tessera/autograd/testing';
import { gpuOrNull, numRuns } from './cross-backend.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

/** 0, 1, ..., n-1 as f32. */
const iota = (n: number, device: string) => T.arange(0, n, 1, { dtype: 'f32', device });

describe.skipIf(gpu === null)('webgpu gather/scatterAdd index bounds', () => {
  /** The two ops that read an index tensor, each run on a case on one device. */
  const indexOps: Record<'gather' | 'scatterAdd', (c: IndexCase, idx: ReturnType<typeof buildIndexCase>, dev: string) => Tensor> = {
    gather: (c, { axis, idxShape, values }, dev) => T.gather(iota(T.numel(c.xShape), dev).reshape(c.xShape), axis, indexView(dev, values, idxShape, c.dtype, c.layout)),
    scatterAdd: (c, { axis, idxShape, values }, dev) =>
      T.scatterAdd(T.zeros(c.xShape, { device: dev }), axis, indexView(dev, values, idxShape, c.dtype, c.layout), iota(T.numel(idxShape), dev).reshape(idxShape)),
  };

  test.each(['gather', 'scatterAdd'] as const)("%s: the next read raises the CPU backend's error for the first bad index, or the results match", async (name) => {
    await fc.assert(
      fc.asyncProperty(indexCaseArb, async (c) => {
        const idx = buildIndexCase(c);
        const run = (dev: string) => indexOps[name](c, idx, dev);
        const expected = cpuError(() => run('cpu'));
        const submits = gpu!.context.counters.submits;
        const out = T.tidy(() => run('webgpu'));
        // No readback was forced by the check: whatever submitted, it was not a wait on the GPU.
        expect(gpu!.context.counters.submits - submits).toBeLessThanOrEqual(1);
        try {
          if (expected === null) {
            const want = Array.from(T.tidy(() => run('cpu')).dataSync() as ArrayLike<number>);
            expect(Array.from((await out.data()) as ArrayLike<number>)).toEqual(want);
          } else {
            const err = await out.data().then(() => null, (e: Error) => e);
            expect(err, `expected: ${expected}`).toBeInstanceOf(RangeError);
            expect(err!.message.startsWith(expected), `${err!.message}\n  should start with\n${expected}`).toBe(true);
          }
        } finally {
          out.dispose();
        }
      }),
      { numRuns: numRuns() },
    );
  });

  test('the check adds no submit: the error surfaces at the next read of any tensor, then clears', async () => {
    const table = iota(12, 'webgpu').reshape([4, 3]);
    const ids = T.tensor([1, 7, 2], { dtype: 'i32', device: 'webgpu' });
    await gpu!.sync!();
    const submits = gpu!.context.counters.submits;
    const rows = T.embedding(ids, table); // (3, 3): row 7 of a 4-row table
    const other = T.add(table, 1);
    expect(gpu!.context.counters.submits).toBe(submits);
    await expect(other.data()).rejects.toThrow(
      'gather: index 7 at position [1,0] of the index [3,3] is out of range for axis 0 of size 4; expected 0 <= index < 4. (webgpu: ',
    );
    // The record was reset by that read: clean work reads fine again.
    expect(Array.from((await other.data()) as Float32Array)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const t of [table, ids, rows, other]) t.dispose();
  });

  test('sync() raises it too; of two bad ops before a read, the first is reported', async () => {
    const x = T.zeros([2, 3], { device: 'webgpu' });
    const idx = T.tensor([[0, -2, 1]], { dtype: 'i32', device: 'webgpu' });
    const later = T.tensor([[5, 0, 0]], { dtype: 'i32', device: 'webgpu' });
    const a = T.gather(x, 1, idx);
    const b = T.scatterAdd(x, 0, later, T.ones([1, 3], { device: 'webgpu' }));
    await expect(gpu!.sync!()).rejects.toThrow(/^gather: index -2 at position \[0,1\] of the index \[1,3\] is out of range for axis 1 of size 3; expected 0 <= index < 3; negative indices are not allowed/);
    const c = T.scatterAdd(x, 0, later, T.ones([1, 3], { device: 'webgpu' }));
    await expect(gpu!.sync!()).rejects.toThrow(/^scatterAdd: index 5 at position \[0,0\] of the index \[1,3\] is out of range for axis 0 of size 2/);
    await gpu!.sync!();
    for (const t of [x, idx, later, a, b, c]) t.dispose();
  });

  test('an embedding lookup checks one index per token, not one per output element', async () => {
    // 1000 tokens into a table of width 512: the index view is (1000, 512) with stride 0 on dim 1.
    const table = T.zeros([50, 512], { device: 'webgpu' });
    const ids = T.tensor(Array.from({ length: 1000 }, (_, i) => (i === 999 ? 50 : i % 50)), { dtype: 'i32', device: 'webgpu' });
    const rows = T.embedding(ids, table);
    await expect(rows.data()).rejects.toThrow(/^gather: index 50 at position \[999,0\] of the index \[1000,512\]/);
    for (const t of [table, ids, rows]) t.dispose();
  });
});
