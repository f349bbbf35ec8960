// The machinery around the kernels in gpu.js's cpu mode: memory accounting and release on dispose,
// compiled kernels shared across shapes, and the errors that name what gpu.js cannot hold.
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { GpuJsUnsupportedError, createGpuJsBackend } from '../src/index.js';
import { gpujsBackend } from './cross-backend.js';

const backend = await gpujsBackend('cpu');
const dev = backend.name;
afterAll(() => backend.destroy());

describe('gpujs backend (cpu mode)', () => {
  test('reports its mode and counts live handles and bytes; dispose releases them', async () => {
    expect(backend.mode).toBe('cpu');
    const before = backend.memory();
    const x = T.ones([1000], { device: dev });
    const y = T.add(x, 1);
    expect(backend.memory().liveHandles - before.liveHandles).toBe(2);
    expect(backend.memory().liveBytes - before.liveBytes).toBe(8000);
    expect(Array.from((await y.data()) as Float32Array).slice(0, 2)).toEqual([2, 2]);
    x.dispose();
    y.dispose();
    expect(backend.memory()).toEqual(before);
  });

  test('shapes and layouts are table values: new shapes reuse the compiled kernels', async () => {
    const run = async (shape: number[]) => {
      const y = T.tidy(() => T.add(T.mul(T.ones(shape, { device: dev }), 2), T.ones([shape.at(-1)!], { device: dev }).transpose(0, 0)));
      await y.data();
      y.dispose();
    };
    await run([3, 4]);
    const compiled = backend.context.counters.compiled;
    await run([7, 5]);
    await run([2, 3, 9]);
    expect(backend.context.counters.compiled).toBe(compiled);
  });

  test('a tensor of more than 6 dims is refused with an error naming the op, the shapes and the fix', () => {
    const x = T.ones([1, 1, 1, 1, 1, 1, 2], { device: dev });
    expect(() => T.exp(x)).toThrow(GpuJsUnsupportedError);
    expect(() => T.exp(x)).toThrow(/exp on gpujs-cpu \(inputs \[1,1,1,1,1,1,2\] f32; output \[1,1,1,1,1,1,2\] f32\): exp: rank 7 is above the gpujs backend's limit of 6 dimensions; reshape .* or run this op on the cpu backend/);
    x.dispose();
  });

  test('integers beyond 2^24 are refused on upload (f32 values cannot hold them exactly)', () => {
    expect(() => T.tensor([1, 2 ** 24 + 1], { dtype: 'i32', device: dev })).toThrow(/i32 value 16777217 at element 1 is beyond ±2\^24.*keep such integers on the cpu backend/);
    const ok = T.tensor([-(2 ** 24), 2 ** 24], { dtype: 'i32', device: dev });
    ok.dispose();
  });

  test("mode 'webgpu' without navigator.gpu names what to provide", async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    const saved = g.navigator?.gpu;
    if (g.navigator) g.navigator.gpu = undefined;
    try {
      await expect(createGpuJsBackend({ mode: 'webgpu' })).rejects.toThrow(/mode 'webgpu' needs navigator.gpu; in Node provide it from the `webgpu` package/);
    } finally {
      if (g.navigator) g.navigator.gpu = saved;
    }
  });

  test('random draws are the CPU backend\'s, bit for bit (Philox on the host, uploaded)', async () => {
    const a = T.randn([64], { generator: new T.Generator(5), device: dev });
    const b = T.randn([64], { generator: new T.Generator(5), device: 'cpu' });
    expect(Array.from((await a.data()) as Float32Array)).toEqual(Array.from((await b.data()) as Float32Array));
    a.dispose();
    b.dispose();
  });
});
