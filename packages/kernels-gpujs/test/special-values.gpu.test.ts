// Special values (NaN, infinities, negative bases, values near 0, tanh's large arguments) on gpu.js's
// WebGPU mode (lavapipe without a GPU) equal the CPU backend. Fails under CI when no adapter exists.
import { afterAll, describe } from 'vitest';
import { gpujsWebGpuOrNull } from './cross-backend.js';
import { specialValueTests } from './special-values.js';

const backend = await gpujsWebGpuOrNull();
afterAll(() => backend?.destroy());
describe.skipIf(backend === null)('special values: gpu.js WebGPU mode equals the CPU backend', () => specialValueTests(backend!.name));
