// The shared special-value checks (NaN, infinities, masked and fully masked logits, negative pow
// bases, values near 0, tanh/GELU at large inputs, and with `fusedKernels` the norms, GELU and
// softmax/cross-entropy gradients, add/sub/mul/div, sum, and attention with its gradients) on the
// default backend's WebAssembly SIMD paths and gemm attention, held to the TypeScript kernels. They
// found the gemm attention turning a non-finite q/k/v/dO element at a masked or causally hidden key
// into NaN where the row kernels leave that key out (attention-wasm.ts's hiddenKeysLeftOut). The checks compare against the backend named 'cpu', so here
// that is a `wasm: false` backend. Every case is tiled past the sizes where the SIMD paths start
// (unary ops and add/sub/mul/div at WASM_MIN_ELEMENTS, sums at WASM_REDUCE_MIN_ELEMENTS, softmax lane
// sums at WASM_SUM_EXP_MIN) and to the size from which a SIMD row job splits across the workers
// (4 * MIN_SPLIT_ELEMENTS; tiled inputs are cloned, so they are arena blocks the workers read in
// place), on 1 and 2 threads; the default backend backs off splitting while its workers come late
// (SplitGauge), so a third backend with the same row kernels splits every such job. The last test of
// each asserts the module, the in-place calls and the workers really ran.
// The checks are imported from ../../autograd/src by path, not as @tessera/autograd/testing: autograd's
// tests depend on kernels-cpu, so a dependency back would be a cycle in the workspace graph (pnpm and
// turbo refuse it). special-values.ts and grad.ts import only @tessera/tensor, so the deep import works.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Backend, OpDef } from '@tessera/tensor';
// By path, not the package (see the header).
import { gradients } from '../../autograd/src/grad.js';
import { specialValueChecks } from '../../autograd/src/special-values.js';
import type { CpuKernel } from '../src/cpu-kernel.js';
import { cpuThreadJobs, createCpuBackend, whenCpuThreadsReady } from '../src/index.js';
import { MIN_SPLIT_ELEMENTS, rowTaskKernels } from '../src/kernels/row-tasks-threaded.js';
import { WASM_SOFTMAX_KERNELS, WASM_SUM_EXP_MIN } from '../src/kernels/softmax-wasm.js';
import { CPU_KERNELS } from '../src/registry.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { inPlaceRowRuns, inPlaceRuns, wasmSumExpRuns, wasmUnaryRuns } from '../src/wasm/wasm-elementwise.js';
import { wasmReduceCalls } from '../src/wasm/wasm-reduce.js';
import { attentionModuleScans } from '../src/kernels/attention-wasm.js';

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

/** The counters of the paths the checks should take (worker jobs: `backend`'s). */
const counts = (backend: Backend) => ({ unary: wasmUnaryRuns(), binary: inPlaceRuns(), sumExp: wasmSumExpRuns(), reduce: wasmReduceCalls(), scans: attentionModuleScans(), rows: inPlaceRowRuns(), workers: workerJobs(backend) });

for (const backend of [...defaults, split]) {
  describe(`special values: ${backend.name} (WebAssembly SIMD) equals the TypeScript kernels`, () => {
    // Tests of a file run in order: the last one reads what the checks above it moved.
    let before: ReturnType<typeof counts>;
    beforeAll(() => void (before = counts(backend)));
    for (const check of specialValueChecks(backend.name, TILE)) test(check.name, async () => expect(await check.mismatches()).toEqual([]));

    test('the checks above took the SIMD paths: unary ops, add/sub/mul/div and the row kernels in place, sums, softmax lane sums (and, split, the workers)', () => {
      const after = counts(backend);
      expect(after.unary, 'exp/tanh/sigmoid on the module').toBeGreaterThan(before.unary);
      expect(after.binary, 'add/sub/mul/div in place on the module').toBeGreaterThan(before.binary);
      // Attention's finiteness scan takes the reduce module too: only calls beyond its scans are sums.
      expect(after.reduce - before.reduce, 'sums on the module (reduce calls beyond the attention scans)').toBeGreaterThan(after.scans - before.scans);
      expect(after.sumExp, 'softmax/logSoftmax lane sums on the module').toBeGreaterThan(before.sumExp);
      expect(after.rows, 'GELU, norms and cross-entropy rows in place on the calling thread').toBeGreaterThan(before.rows);
      // GELU (tanh) and its gradient, layerNorm/rmsNorm and their gradients (x2 weighted), the cross-entropy gradient (x2 smoothing).
      if (backend === split) expect(after.workers - before.workers, 'row jobs split to the worker thread').toBeGreaterThanOrEqual(10);
      // The attention heads (2^21 multiply-adds a forward) split across the default backend's threads.
      if (backend === defaults[1]) expect(after.workers, 'attention heads on the worker thread').toBeGreaterThan(before.workers);
    });
  });
}

describe('attention gradients at a huge score on the row kernels', () => {
  // One element of q at 1e30 makes query 0's scores ~1e30. The row kernels recompute scores in double
  // while the forward stored lse in f32, ~1e22 away: exp(s - lse) was Infinity for the one key query 0
  // sees under the causal mask (its P is 1), and dQ of query 0 was ±Infinity; the gemm kernels, whose
  // scores are f32 like the lse, gave ~1e-8. The row kernels now round the score to f32 first.
  test('dQ, dK and dV stay finite and equal the gemm kernels\' (causal, q[0] = 1e30)', async () => {
    const shape = [1, 2, 16, 8];
    const n = 2 * 16 * 8;
    const values = (seed: number): number[] => {
      let s = seed;
      return Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648), (s / 2147483648) * 2 - 1));
    };
    // Values where the f32 lse of query 0 lies below its double score (the other way, P underflowed to 0).
    const [q, k, v, dy] = [1, 2, 3, 9].map(values);
    q![0] = 1e30;
    /** dQ, dK and dV (the grad-KV kernel rounds its scores the same way). */
    const grads = async (device: string): Promise<number[][]> => {
      const on = (xs: number[]) => T.tensor(xs, { dtype: 'f32', device }).reshape(shape);
      const [tq, tk, tv] = [on(q!).requiresGrad_(), on(k!).requiresGrad_(), on(v!).requiresGrad_()];
      const y = T.withGradMode(true, () => T.scaledDotProductAttention(tq, tk, tv, undefined, { causal: true }));
      return Promise.all(gradients(y, [tq, tk, tv], { gradient: on(dy!) }).map(async (g) => Array.from((await g.data()) as Float32Array)));
    };
    const reference = await grads('cpu');
    const gemm = await grads(defaults[0]!.name);
    // Key 0 of head 0 (dK's first 8 elements) takes query 0's dS times q[0] = 1e30. That dS is P (dP - Δ)
    // with P = 1 and dP = Δ = dO·v0, 0 exactly but rounding noise (~1e-8) in f32, so both kernels give
    // ~1e22 there, unequal: it must be finite, and the rest (no term of query 0) must agree.
    const noise = (name: string, i: number) => name === 'dK' && i < 8;
    ['dQ', 'dK', 'dV'].forEach((name, w) => {
      const [r, g] = [reference[w]!, gemm[w]!];
      expect(r.every(Number.isFinite), `${name} on the row kernels: ${r.slice(0, 8).join(', ')}`).toBe(true);
      expect(g.every(Number.isFinite), `${name} on the gemm kernels: ${g.slice(0, 8).join(', ')}`).toBe(true);
      r.forEach((x, i) => noise(name, i) || expect(Math.abs(x - g[i]!), `${name} element ${i}: ${x} against ${g[i]}`).toBeLessThanOrEqual(1e-5 * Math.abs(x) + 1e-6));
    });
  });
});
