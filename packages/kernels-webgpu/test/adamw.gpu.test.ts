// The fused AdamW update (Backend.adamwUpdate) against the CPU's composed adamwStep: same values
// within f32 rounding, 3 dispatches instead of a dozen, and views that cannot be fused still work.
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { expectSame, gpuOrNull, makeView } from './cross-backend.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

const hyper = { lr: 3e-3, beta1: 0.85, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, step: 3 };

describe.skipIf(gpu === null)('fused AdamW on WebGPU', () => {
  for (const shape of [[1037], [7, 13]]) {
    test(`matches the CPU composition for [${shape}] in 3 dispatches`, async () => {
      const make = (device: string) => ({
        p: makeView(device, shape, 'dense', 'f32', 1),
        g: makeView(device, shape, 'dense', 'f32', 2),
        m: makeView(device, shape, 'dense', 'f32', 3),
        v: T.abs(makeView(device, shape, 'dense', 'f32', 4)),
      });
      const c = make('cpu');
      const w = make('webgpu');
      await Promise.all(Object.values(w).map((t) => t.data()));
      const before = gpu!.context.counters.dispatches;
      const rw = T.adamwStep(w.p, w.g, w.m, w.v, hyper);
      expect(gpu!.context.counters.dispatches - before).toBe(3);
      const rc = T.adamwStep(c.p, c.g, c.m, c.v, hyper);
      await expectSame(rc.m, rw.m, 'm');
      await expectSame(rc.v, rw.v, 'v');
      await expectSame(rc.param, rw.param, 'param');
    });
  }

  test('transposed views fall back to the composed ops and still match', async () => {
    const make = (device: string) => ({
      p: makeView(device, [5, 6], 'transposed', 'f32', 5),
      g: makeView(device, [5, 6], 'transposed', 'f32', 6),
      m: makeView(device, [5, 6], 'transposed', 'f32', 7),
      v: T.abs(makeView(device, [5, 6], 'transposed', 'f32', 8)),
    });
    const c = make('cpu');
    const w = make('webgpu');
    const before = gpu!.context.counters.dispatches;
    const rw = T.adamwStep(w.p, w.g, w.m, w.v, hyper);
    expect(gpu!.context.counters.dispatches - before).toBeGreaterThan(3);
    const rc = T.adamwStep(c.p, c.g, c.m, c.v, hyper);
    await expectSame(rc.param, rw.param, 'param');
    await expectSame(rc.v, rw.v, 'v');
  });
});
