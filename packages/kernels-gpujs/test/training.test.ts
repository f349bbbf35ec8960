// Training on gpu.js's cpu mode (runs anywhere): see training-checks.ts. WebGPU mode runs the same
// checks in training.gpu.test.ts, WebGL in browser.gpu.test.ts.
import { afterAll, describe } from 'vitest';
import { gpujsBackend } from './cross-backend.js';
import { trainingChecks } from './training-checks.js';

const backend = await gpujsBackend('cpu');
afterAll(() => backend.destroy());
describe('training on gpu.js cpu mode', () => trainingChecks(backend));
