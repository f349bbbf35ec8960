import { describe, expect, test } from 'vitest';
import { OPS, listPrimitives, tensor, getBackend, type TypedArray } from '@tessera/tensor';
import { CPU_KERNELS, createCpuBackend, matmulReference } from '../src/index.js';
import './views.js';

describe('cpu backend', () => {
  test('has a kernel for every primitive of @tessera/tensor', () => {
    const backend = createCpuBackend();
    const missing = listPrimitives().filter((op) => !backend.kernels.has(op)).map((op) => op.name);
    expect(missing).toEqual([]);
    // Beyond the primitives, only fused kernels for composites (which need an infer) may appear.
    const extra = [...CPU_KERNELS.keys()].filter((op) => op.kind !== 'primitive');
    expect(extra.filter((op) => op.kind !== 'composite' || !op.infer).map((op) => op.name)).toEqual([]);
    expect(CPU_KERNELS.size).toBe(listPrimitives().length + extra.length);
  });

  test('names and compute dtypes follow the contract', () => {
    const backend = createCpuBackend();
    expect(backend.name).toBe('cpu');
    expect([...backend.computeDtypes].sort()).toEqual(['bool', 'f32', 'f64', 'i32', 'u32', 'u8']);
    expect(createCpuBackend({ name: 'cpu2' }).name).toBe('cpu2');
  });

  test('upload copies, read and readSync return the elements, free drops them', async () => {
    const backend = createCpuBackend();
    const src = new Float32Array([1, 2, 3]);
    const storage = backend.upload('f32', src);
    src[0] = 99;
    expect(storage).toMatchObject({ backend, dtype: 'f32', size: 3, byteLength: 12, refs: 0 });
    expect([...(await backend.read(storage))]).toEqual([1, 2, 3]);
    expect([...backend.readSync!(storage)]).toEqual([1, 2, 3]);
    const half = backend.upload('f16', new Uint16Array([0x3c00]));
    expect(half.byteLength).toBe(2);
    expect(half.data).toBeInstanceOf(Uint16Array);
    backend.free(storage);
    expect(() => backend.readSync!(storage)).toThrow(/freed/);
  });

  test('a kernel override replaces the built-in one', () => {
    const backend = createCpuBackend({ name: 'cpu-override', kernels: new Map([[OPS.neg, (): TypedArray => new Float32Array([42])]]) });
    const storage = backend.kernels.get(OPS.neg)!([], undefined, { shape: [1], dtype: 'f32' });
    expect([...(storage.data as Float32Array)]).toEqual([42]);
  });

  test('ops run through the registered backend', () => {
    expect(getBackend().name).toBe('cpu');
    expect([...tensor([1, 2, 3]).dataSync()]).toEqual([1, 2, 3]);
  });

  test('threads must be a positive integer; wasm: false keeps the TypeScript matmul', () => {
    expect(() => createCpuBackend({ threads: 0 })).toThrow(/threads must be a positive integer/);
    expect(() => createCpuBackend({ threads: 1.5 })).toThrow(/threads must be a positive integer/);
    const ts = createCpuBackend({ name: 'cpu-ts', wasm: false });
    const wasm = createCpuBackend({ name: 'cpu-wasm', threads: 1 });
    const a = tensor(Array.from({ length: 40 * 50 }, (_, i) => Math.sin(i)), { shape: [40, 50] });
    const b = tensor(Array.from({ length: 50 * 30 }, (_, i) => Math.cos(i)), { shape: [50, 30] });
    const out = { shape: [40, 30], dtype: 'f32' as const };
    const viaTs = ts.kernels.get(OPS.matmul)!([a, b], undefined, out).data as Float32Array;
    const viaWasm = wasm.kernels.get(OPS.matmul)!([a, b], undefined, out).data as Float32Array;
    // The TypeScript kernel accumulates in double, so it is exactly the rounded reference; the
    // WebAssembly one accumulates in f32 and differs in the last bits somewhere.
    expect([...viaTs]).toEqual([...(matmulReference([a, b], undefined, out) as Float32Array)]);
    expect(viaWasm.some((v, i) => v !== viaTs[i])).toBe(true);
  });
});
