// The machinery around the kernels in gpu.js's cpu mode: memory accounting and release on dispose,
// compiled kernels shared across shapes, and the errors that name what gpu.js cannot hold (ranks,
// integers beyond ±2^24, tensors of more than 2^24 elements: refused in every mode, cpu included,
// since the shape table is f32 there too).
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { GpuJsUnsupportedError, createGpuJsBackend, type Handle } from '../src/index.js';
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

  test('full, arange and randint refuse integers beyond ±2^24 as upload does, and keep ±2^24 exact', async () => {
    const beyond = /i32 value 16777217 (\(.*\) )?is beyond ±2\^24, which gpu.js's f32 values cannot hold exactly; keep such integers on the cpu backend/;
    expect(() => T.full([1], 2 ** 24 + 1, { dtype: 'i32', device: dev })).toThrow(GpuJsUnsupportedError);
    expect(() => T.full([1], 2 ** 24 + 1, { dtype: 'i32', device: dev })).toThrow(/^full on gpujs-cpu \(inputs ; output \[1\] f32\): full: i32 value 16777217 is beyond ±2\^24/);
    expect(() => T.full([2], -(2 ** 24) - 1.5, { dtype: 'i32', device: dev })).toThrow(/full: i32 value -16777217 is beyond/);
    expect(() => T.arange(2 ** 24 - 2, 2 ** 24 + 2, 1, { device: dev })).toThrow(beyond);
    expect(() => T.arange(0, -(2 ** 24) - 4, -1, { device: dev })).toThrow(/arange: i32 value -16777219 \(element 16777219\) is beyond/);
    // Both ends are exact, but start + i * step forms i * step up to -17999997 in f32.
    expect(() => T.arange(2 ** 24, 2 ** 24 - 6e6 * 3, -3, { device: dev })).toThrow(/arange: i32 value -17999997 \(the step -3 times 5999999, added to start in f32\) is beyond ±2\^24/);
    expect(() => T.randint(0, 2 ** 24 + 2, [4], { device: dev })).toThrow(/random: i32 value 16777217 \(the top of \[0, 16777218\)\) is beyond ±2\^24/);
    // NaN and ±Infinity are not beyond: an integer dtype stores them as 0, as the CPU does (Infinity threw, NaN stayed NaN).
    for (const v of [NaN, Infinity, -Infinity]) expect(Array.from((await T.full([2], v, { dtype: 'i32', device: dev }).data()) as Int32Array), `full i32 ${v}`).toEqual([0, 0]);
    const ok = [
      T.full([2], 2 ** 24, { dtype: 'i32', device: dev }),
      T.full([2], -(2 ** 24), { dtype: 'i32', device: dev }),
      T.arange(2 ** 24 - 3, 2 ** 24 + 1, 1, { device: dev }),
      T.randint(2 ** 24 - 2, 2 ** 24 + 1, [64], { generator: new T.Generator(3), device: dev }),
    ];
    const want = [
      [2 ** 24, 2 ** 24],
      [-(2 ** 24), -(2 ** 24)],
      [2 ** 24 - 3, 2 ** 24 - 2, 2 ** 24 - 1, 2 ** 24],
      Array.from(T.randint(2 ** 24 - 2, 2 ** 24 + 1, [64], { generator: new T.Generator(3), device: 'cpu' }).dataSync() as Int32Array),
    ];
    for (let k = 0; k < ok.length; k++) expect(Array.from((await ok[k]!.data()) as Int32Array)).toEqual(want[k]);
    for (const t of ok) t.dispose();
  });

  test('a tensor of more than 2^24 elements is refused in every mode before anything is allocated, naming the op, the size and the fix', () => {
    const before = backend.memory();
    const over = /has 16777217 elements, above the gpujs backend's limit of 2\^24 \(16777216\) per tensor: gpu.js kernels number elements in f32; split the tensor into parts of at most 2\^24 elements, or use the cpu or webgpu backend/;
    expect(() => T.full([2 ** 24 + 1], 1, { device: dev })).toThrow(GpuJsUnsupportedError);
    expect(() => T.full([2 ** 12 + 1, 2 ** 12], 1, { device: dev })).toThrow(/^full on gpujs-cpu \(inputs ; output \[4097,4096\] f32\): the output has 16781312 elements, above/);
    expect(() => T.randn([2 ** 24 + 1], { device: dev })).toThrow(/^random on gpujs-cpu .*: random: the output has 16777217 elements, above/);
    expect(() => T.tensor(new Uint8Array(2 ** 24 + 1), { dtype: 'u8', device: dev })).toThrow(/^upload to gpujs-cpu: the u8 tensor has 16777217 elements, above/);
    // An input over the limit (a handle standing for one: nothing of that size is allocated).
    const source = 'function(a) { return a[this.thread.x]; }';
    const input = (size: number): Handle => ({ value: new Float32Array(1), promise: null, size, freed: false });
    expect(() => backend.context.run({ source, size: 1, args: [input(2 ** 24 + 1)] })).toThrow(over);
    expect(() => backend.context.run({ source, size: 1, args: [input(2 ** 24 + 1)] })).toThrow(/^an input has 16777217 elements/);
    expect(() => backend.context.upload(new Float32Array(2 ** 24 + 1))).toThrow(/^upload: the tensor has 16777217 elements/);
    expect(backend.memory()).toEqual(before);
    // 2^24 itself is allowed.
    const exact = backend.context.run({ source, size: 1, args: [input(2 ** 24)] });
    backend.context.free(exact);
    expect(backend.memory()).toEqual(before);
  });

  test('memory() counts the results of pending index checks (one 2-value handle per gather/scatterAdd/crossEntropy) until the next read or sync', async () => {
    const table = T.ones([4, 3], { device: dev });
    const ids = T.tensor([0, 2], { dtype: 'i32', device: dev });
    const before = backend.memory();
    const rows = T.embedding(ids, table);
    // The gathered rows (an index broadcast to [2,3] costs no handle) and the check's result.
    expect(backend.memory().liveHandles - before.liveHandles).toBe(2);
    expect(backend.memory().liveBytes - before.liveBytes).toBe(6 * 4 + 2 * 4);
    await backend.sync!();
    expect(backend.memory().liveHandles - before.liveHandles).toBe(1);
    for (const t of [table, ids, rows]) t.dispose();
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
