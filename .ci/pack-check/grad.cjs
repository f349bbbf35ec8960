// Run inside a project that installed the packed tarballs: CommonJS requires, CPU backend, a gradient.
const assert = require('node:assert/strict');
const { grad } = require('@tessera/autograd');
const { createCpuBackend } = require('@tessera/kernels-cpu');
const { mul, registerBackend, sum, tensor } = require('@tessera/tensor');

const entry = require.resolve('@tessera/tensor');
assert.match(entry, /node_modules\/@tessera\/tensor\/dist\/index\.cjs$/, `require resolved @tessera/tensor to ${entry}, expected its dist/index.cjs`);

registerBackend(createCpuBackend());
const x = tensor([1, -2, 3.5, 0]);
const [dx] = grad((x) => sum(mul(x, x)))(x); // d/dx Σ x² = 2x
dx.data().then((d) => {
  assert.deepEqual(Array.from(d), [2, -4, 7, 0]);
  console.log('pack-check CJS: grad of sum(x*x) is 2x ✓');
});
