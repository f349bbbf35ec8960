// Every primitive and fused composite on gpu.js's WebGPU mode (navigator.gpu from the `webgpu` package; lavapipe without a
// GPU) equals the CPU backend. Fails under CI when no adapter exists.
import { afterAll, describe } from 'vitest';
import { gpujsWebGpuOrNull } from './cross-backend.js';
import { fusedProperties } from './fused-properties.js';
import { edgeValueProperties } from './edge-value-properties.js';
import { indexBoundsProperties } from './index-bounds-properties.js';
import { primitiveProperties } from './op-properties.js';

const backend = await gpujsWebGpuOrNull();
afterAll(() => backend?.destroy());
describe.skipIf(backend === null)('every primitive: gpu.js WebGPU mode equals the CPU backend', () => primitiveProperties(backend!.name));
describe.skipIf(backend === null)('fused composites: gpu.js WebGPU mode equals the decomposition and the CPU backend', () => fusedProperties(backend!.name));
describe.skipIf(backend === null)("gather/scatterAdd/crossEntropy index bounds: gpu.js WebGPU mode reports the CPU backend's error", () => indexBoundsProperties(backend!.name));
describe.skipIf(backend === null)('f16/bf16 edge values: gpu.js WebGPU mode rounds as the CPU backend', () => edgeValueProperties(backend!.name));
