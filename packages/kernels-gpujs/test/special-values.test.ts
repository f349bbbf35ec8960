// Special values (NaN, infinities, negative bases, values near 0, tanh's large arguments) on gpu.js's
// cpu mode equal the CPU backend. WebGPU mode runs the same cases in special-values.gpu.test.ts,
// WebGL in browser.gpu.test.ts.
import { afterAll, describe } from 'vitest';
import { gpujsBackend } from './cross-backend.js';
import { specialValueTests } from './special-values.js';

const backend = await gpujsBackend('cpu');
afterAll(() => backend.destroy());
describe('special values: gpu.js cpu mode equals the CPU backend', () => specialValueTests(backend.name));
