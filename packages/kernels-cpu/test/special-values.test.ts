// The shared special-value checks (NaN, infinities, masked and fully masked logits, negative pow
// bases, values near 0, tanh/GELU at large inputs, and with `fusedKernels` the norms, GELU and
// softmax/cross-entropy gradients, add/sub/mul/div and sum) on the default backend's WebAssembly SIMD
// paths, held to the TypeScript kernels. The checks compare against the backend named 'cpu', so here
// that is a `wasm: false` backend. Every case is tiled past the sizes where the SIMD paths start
// (unary ops and add/sub/mul/div at WASM_MIN_ELEMENTS, sums at WASM_REDUCE_MIN_ELEMENTS, softmax lane
// sums at WASM_SUM_EXP_MIN) and to the size from which a SIMD row job splits across the workers
// (4 * MIN_SPLIT_ELEMENTS; tiled inputs are cloned, so they are arena blocks the workers read in
// place), on 1 and 2 threads; the default backend backs off splitting while its workers come late
// (SplitGauge), so a third backend with the same row kernels splits every such job. The last test of
// each asserts the module, the in-place calls and the workers really ran.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Backend, OpDef } from '@tessera/tensor';
// By path, not the package: @tessera/autograd's tests depend on kernels-cpu, and a dependency back
// would be a cycle in the workspace graph. The file imports only @tessera/tensor.
import { specialValueChecks } from '../../autograd/src/special-values.js';
import type { CpuKernel } from '../src/cpu-kernel.js';
import { cpuThreadJobs, createCpuBackend, whenCpuThreadsReady } from '../src/index.js';
import { MIN_SPLIT_ELEMENTS, rowTaskKernels } from '../src/kernels/row-tasks-threaded.js';
import { WASM_SOFTMAX_KERNELS, WASM_SUM_EXP_MIN } from '../src/kernels/softmax-wasm.js';
import { CPU_KERNELS } from '../src/registry.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { inPlaceRowRuns, inPlaceRuns, wasmSumExpRuns, wasmUnaryRuns } from '../src/wasm/wasm-elementwise.js';
import { wasmReduceCalls } from '../src/wasm/wasm-reduce.js';

T.registerBackend(createCpuBackend({ name: 'cpu', wasm: false }));
T.setBackend('cpu');
/** The default backend on 1 and 2 threads. */
const defaults = [1, 2].map((threads) => T.registerBackend(createCpuBackend({ name: `cpu-wasm-${threads}`, threads })));
/** The default backend's row kernels on 2 threads without the back-off: every job from 4 * MIN_SPLIT_ELEMENTS splits. */
const pool = new WasmGemm(2);
const fallbacks = new Map<OpDef, CpuKernel>([...CPU_KERNELS, ...WASM_SOFTMAX_KERNELS]);
const rowKernels = new Map(rowTaskKernels({ gemm: () => pool, minElements: MIN_SPLIT_ELEMENTS, adaptive: false, fallback: (op) => fallbacks.get(op)! }));
const split = T.registerBackend(createCpuBackend({ name: 'cpu-wasm-2-split', threads: 2, kernels: rowKernels }));
beforeAll(async () => {
  for (const b of defaults) await whenCpuThreadsReady(b);
  await pool.whenReady();
});
afterAll(() => {
  for (const b of [...defaults, split]) T.unregisterBackend(b.name);
  pool.close();
});

/** Past every SIMD threshold, and the size from which a SIMD row job splits across the workers. */
const TILE = { minElements: 4 * MIN_SPLIT_ELEMENTS, minRow: WASM_SUM_EXP_MIN, fusedKernels: true };

/** Jobs the worker threads (not the calling thread) have run for `backend`'s row kernels. */
const workerJobs = (backend: Backend): number => (backend === split ? pool.jobsPerThread() : cpuThreadJobs(backend)).slice(1).reduce((a, b) => a + b, 0);

for (const backend of [...defaults, split]) {
  describe(`special values: ${backend.name} (WebAssembly SIMD) equals the TypeScript kernels`, () => {
    for (const check of specialValueChecks(backend.name, TILE)) test(check.name, async () => expect(await check.mismatches()).toEqual([]));

    test('the SIMD paths ran: unary ops, add/sub/mul/div and the row kernels in place, sums, softmax lane sums (and, split, the workers)', async () => {
      const counts = () => ({ unary: wasmUnaryRuns(), binary: inPlaceRuns(), sumExp: wasmSumExpRuns(), reduce: wasmReduceCalls(), rows: inPlaceRowRuns(), workers: workerJobs(backend) });
      const before = counts();
      for (const check of specialValueChecks(backend.name, TILE)) await check.mismatches();
      const after = counts();
      expect(after.unary, 'exp/tanh/sigmoid on the module').toBeGreaterThan(before.unary);
      expect(after.binary, 'add/sub/mul/div in place on the module').toBeGreaterThan(before.binary);
      expect(after.reduce, 'sums on the module').toBeGreaterThan(before.reduce);
      expect(after.sumExp, 'softmax/logSoftmax lane sums on the module').toBeGreaterThan(before.sumExp);
      expect(after.rows, 'GELU, norms and cross-entropy rows in place on the calling thread').toBeGreaterThan(before.rows);
      // GELU (tanh) and its gradient, layerNorm/rmsNorm and their gradients (x2 weighted), the cross-entropy gradient (x2 smoothing).
      if (backend === split) expect(after.workers - before.workers, 'row jobs split to the worker thread').toBeGreaterThanOrEqual(10);
    });
  });
}
