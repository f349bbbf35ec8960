// Every primitive on gpu.js's cpu and webasm modes (the modes that run in Node without a GPU) equals
// the CPU backend. The WebGPU mode runs the same table in ops.gpu.test.ts; WebGL in browser.gpu.test.ts.
import { afterAll, describe } from 'vitest';
import { gpujsBackend } from './cross-backend.js';
import { primitiveProperties } from './op-properties.js';

for (const mode of ['cpu', 'webasm'] as const) {
  const backend = await gpujsBackend(mode);
  afterAll(() => backend.destroy());
  describe(`every primitive: gpu.js ${mode} mode equals the CPU backend`, () => primitiveProperties(backend.name));
}
