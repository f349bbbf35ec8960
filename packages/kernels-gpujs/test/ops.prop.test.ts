// Every primitive and fused composite on gpu.js's cpu mode (runs anywhere) equals the CPU backend.
// gpu.js's webasm mode is left out: its WebAssembly kernel for concat fails with "memory access out of
// bounds" (concat of two [1] tensors), inside gpu.js. The WebGPU mode runs the same table in ops.gpu.test.ts; WebGL in browser.gpu.test.ts.
import { afterAll, describe } from 'vitest';
import { gpujsBackend } from './cross-backend.js';
import { fusedProperties } from './fused-properties.js';
import { edgeValueProperties } from './edge-value-properties.js';
import { indexBoundsProperties } from './index-bounds-properties.js';
import { primitiveProperties } from './op-properties.js';

for (const mode of ['cpu'] as const) {
  const backend = await gpujsBackend(mode);
  afterAll(() => backend.destroy());
  describe(`every primitive: gpu.js ${mode} mode equals the CPU backend`, () => primitiveProperties(backend.name));
  describe(`fused composites: gpu.js ${mode} mode equals the decomposition and the CPU backend`, () => fusedProperties(backend.name));
  describe(`gather/scatterAdd/crossEntropy index bounds: gpu.js ${mode} mode reports the CPU backend's error`, () => indexBoundsProperties(backend.name));
  describe(`f16/bf16 edge values: gpu.js ${mode} mode rounds as the CPU backend`, () => edgeValueProperties(backend.name));
}
