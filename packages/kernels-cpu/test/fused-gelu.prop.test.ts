// The fused CPU kernels of gelu and geluBackward (both forms) held to the ops' decompositions, run on a
// CPU backend without those kernels: strided views (dense, offset, transposed, sliced, broadcast),
// odd, size-1 and empty dims, dy broadcast from a smaller shape, f32 and f64, and special values.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef } from '@tessera/tensor';
import { fusedAndDecomposed } from './fused-reference.js';
import { broadcastableArb, expectClose, layoutArb, makeView, numRuns, seedArb, shapeArb, type Layout } from './views.js';

const FUSED: OpDef[] = [T.OPS.gelu, T.OPS.geluBackward];
const both = fusedAndDecomposed('cpu-gelu-decomposed', FUSED);

// The decomposition rounds every intermediate to f32; the fused kernel rounds once.
const tol = (dtype: DType): [number, number] => (dtype === 'f32' ? [2e-5, 2e-5] : [1e-12, 1e-13]);
const formArb = fc.constantFrom<'none' | 'tanh'>('none', 'tanh');

test('the default CPU backend registers a kernel for gelu and geluBackward', () => {
  for (const op of FUSED) expect(T.getBackend().kernels.has(op), op.name).toBe(true);
});

test('gelu and geluBackward equal the decompositions', () => {
  fc.assert(
    fc.property(
      shapeArb().chain((s) => fc.tuple(fc.constant(s), broadcastableArb(s))),
      layoutArb,
      seedArb,
      layoutArb,
      seedArb,
      formArb,
      fc.constantFrom<DType>('f32', 'f64'),
      ([shape, dyShape], lx, sx, ldy, sdy, approximate, dtype) => {
        T.tidy(() => {
          const x = makeView(shape, lx as Layout, dtype, sx);
          const dy = makeView(dyShape, ldy as Layout, dtype, sdy);
          const [rtol, atol] = tol(dtype);
          const what = `${approximate} ${dtype} x ${lx}[${shape}] dy ${ldy}[${dyShape}]`;
          const [y, wantY] = both((v) => T.gelu(v, { approximate }), [x]);
          expectClose(y, wantY, rtol, atol, `gelu ${what}`);
          const [dx, wantDx] = both((...xs) => T.apply(T.OPS.geluBackward, xs, { approximate }), [x, dy]);
          expectClose(dx, wantDx, rtol, atol * 4, `geluBackward ${what}`);
        });
      },
    ),
    { numRuns: numRuns() },
  );
});

test('saturated, tiny and non-finite inputs match the decompositions', () => {
  // Finite values stop at 1e6: beyond ~1e19 the f32 decomposition's x * x overflows to a NaN gradient
  // that the fused kernel (and PyTorch's) does not produce.
  const values = [-1e6, -1e4, -40, -9, -0.7518, -1e-8, -0, 0, 1e-30, 1e-8, 0.5, 9, 40, 1e4, 1e6, Infinity, -Infinity, NaN];
  for (const dtype of ['f32', 'f64'] as const) {
    for (const approximate of ['none', 'tanh'] as const) {
      const x = T.tensor(values, { dtype });
      const dy = T.full([values.length], 1.5, { dtype });
      const [rtol, atol] = tol(dtype);
      const [y, wantY] = both((v) => T.gelu(v, { approximate }), [x]);
      expectClose(y, wantY, rtol, atol, `gelu ${approximate} ${dtype}`);
      const [dx, wantDx] = both((...xs) => T.apply(T.OPS.geluBackward, xs, { approximate }), [x, dy]);
      expectClose(dx, wantDx, rtol, atol, `geluBackward ${approximate} ${dtype}`);
    }
  }
});
