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
});
