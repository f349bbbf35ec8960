// Training on gpu.js's WebGPU mode (navigator.gpu from the `webgpu` package): see training-checks.ts.
// Fails under CI when no adapter exists.
import { afterAll, describe } from 'vitest';
import { gpujsWebGpuOrNull } from './cross-backend.js';
import { trainingChecks } from './training-checks.js';

const backend = await gpujsWebGpuOrNull();
afterAll(() => backend?.destroy());
describe.skipIf(backend === null)('training on gpu.js WebGPU mode', () => trainingChecks(backend!));
