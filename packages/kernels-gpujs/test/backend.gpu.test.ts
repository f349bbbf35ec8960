// gpu.js WebGPU mode: results stay in GPU buffers between ops, and disposing a tensor destroys its
// buffer once the launches queued before it have read it. Fails under CI when no adapter exists.
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Handle } from '../src/index.js';
import { gpujsWebGpuOrNull } from './cross-backend.js';

const backend = await gpujsWebGpuOrNull();
afterAll(() => backend?.destroy());

describe.skipIf(backend === null)('gpujs backend (WebGPU mode)', () => {
  test('a result is a GPU buffer handle, fed to the next kernel without readback, and destroyed on dispose', async () => {
    const x = T.ones([256], { device: backend!.name });
    const y = T.exp(x);
    const z = T.add(y, 1);
    y.dispose(); // queued after the add that reads it
    expect(Array.from((await z.data()) as Float32Array).slice(0, 2).map((v) => v.toFixed(4))).toEqual(['3.7183', '3.7183']);
    expect(backend!.mode).toBe('webgpu');
    const handle = z.storage.data as Handle;
    const result = handle.value as unknown as { type: string; _deleted: boolean };
    expect(result.type).toBe('WebGPUBuffer');
    const live = backend!.memory().liveHandles;
    z.dispose();
    expect(backend!.memory().liveHandles).toBe(live - 1);
    await backend!.sync!();
    expect(result._deleted).toBe(true);
    x.dispose();
  });

  test('a tensor of more than 2^24 elements is refused before any buffer is made (f32 thread numbers and indices round above 2^24)', () => {
    const before = backend!.memory();
    expect(() => T.full([2 ** 24 + 8], 1, { device: backend!.name })).toThrow(
      /^full on gpujs-webgpu \(inputs ; output \[16777224\] f32\): the output has 16777224 elements, above the gpujs backend's limit of 2\^24 \(16777216\) per tensor: .*split the tensor into parts of at most 2\^24 elements, or use the cpu or webgpu backend/,
    );
    expect(backend!.memory()).toEqual(before);
  });
});
