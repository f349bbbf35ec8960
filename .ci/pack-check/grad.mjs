// Run inside a project that installed the packed tarballs: ESM imports, CPU backend, a gradient.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { grad } from '@tessera/autograd';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { mul, registerBackend, sum, tensor } from '@tessera/tensor';

const entry = fileURLToPath(import.meta.resolve('@tessera/tensor'));
assert.match(entry, /node_modules\/@tessera\/tensor\/dist\/index\.js$/, `ESM resolved @tessera/tensor to ${entry}, expected its dist/index.js`);

registerBackend(createCpuBackend());
const x = tensor([1, -2, 3.5, 0]);
const [dx] = grad((x) => sum(mul(x, x)))(x); // d/dx Σ x² = 2x
assert.deepEqual(Array.from(await dx.data()), [2, -4, 7, 0]);
console.log('pack-check ESM: grad of sum(x*x) is 2x ✓');
