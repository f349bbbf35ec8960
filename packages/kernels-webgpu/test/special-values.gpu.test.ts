// Special values (NaN, infinities, negative bases, values near 0, tanh's large arguments) on WebGPU
// equal the CPU backend: the checks kernels-gpujs runs too (@tessera/autograd/testing).
import { afterAll, describe, expect, test } from 'vitest';
import { specialValueChecks } from '@tessera/autograd/testing';
import { gpuOrNull } from './cross-backend.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

describe.skipIf(gpu === null)('special values: WebGPU equals the CPU backend', () => {
  for (const check of specialValueChecks('webgpu')) test(check.name, async () => expect(await check.mismatches()).toEqual([]));
});
