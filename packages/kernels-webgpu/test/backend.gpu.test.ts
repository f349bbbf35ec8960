// The machinery around the kernels: memory accounting, one pipeline for many shapes, batched
// submits, and device loss reported instead of hung on.
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { createWebGpuBackend } from '../src/index.js';
import { gpuOrNull } from './cross-backend.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

describe.skipIf(gpu === null)('webgpu backend', () => {
  test('memory() reports live and pooled bytes; disposed storages return to the pool', async () => {
    const before = gpu!.memory();
    const x = T.ones([1000], { device: 'webgpu' });
    await x.data();
    const during = gpu!.memory();
    expect(during.liveBytes - before.liveBytes).toBeGreaterThanOrEqual(4000);
    x.dispose();
    await gpu!.sync!();
    const after = gpu!.memory();
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.pooledBytes).toBeGreaterThanOrEqual(4000);
  });

  test('shapes are uniforms: new shapes reuse the compiled pipelines', async () => {
    const run = async (shape: number[]) => {
      const y = T.tidy(() => T.add(T.mul(T.ones(shape, { device: 'webgpu' }), 2), T.ones([shape.at(-1)!], { device: 'webgpu' })));
      await y.data();
      y.dispose();
    };
    await run([3, 4]);
    const compiled = gpu!.context.pipelines.size;
    await run([7, 5]);
    await run([2, 3, 9]);
    expect(gpu!.context.pipelines.size).toBe(compiled);
  });

  test('many ops go out in one submit', async () => {
    await gpu!.sync!();
    const { submits } = gpu!.context.counters;
    const y = T.tidy(() => {
      let x = T.ones([64], { device: 'webgpu' });
      for (let i = 0; i < 50; i++) x = T.add(x, 1);
      return x;
    });
    expect(gpu!.context.counters.submits).toBe(submits);
    expect((await y.data())[0]).toBe(51);
    expect(gpu!.context.counters.submits - submits).toBeLessThanOrEqual(2);
    y.dispose();
  });

  test('a lost device is reported, not hung on', async () => {
    const other = await createWebGpuBackend({ name: 'webgpu-lost' });
    T.registerBackend(other);
    const x = T.ones([8], { device: 'webgpu-lost' });
    await x.data();
    other.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(() => T.add(x, 1)).toThrow(/webgpu: dispatch: the device was lost/);
    await expect(x.data()).rejects.toThrow(/webgpu: read: the device was lost/);
    T.unregisterBackend('webgpu-lost');
  });
});
