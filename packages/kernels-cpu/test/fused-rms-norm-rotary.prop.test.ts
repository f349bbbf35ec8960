// The fused CPU kernels of rmsNorm, rotary and their input gradients held to the ops' decompositions,
// run on a CPU backend without those kernels: strided views (dense, offset, transposed, sliced,
// broadcast), odd, size-1 and empty dims, tables broadcast from (T, D), f32 and f64.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef, Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { broadcastableArb, expectClose, layoutArb, logical, makeView, numRuns, seedArb, type Layout } from './views.js';

const FUSED: OpDef[] = [T.OPS.rmsNorm, T.OPS.rmsNormBackward, T.OPS.rotary, T.OPS.rotaryBackward];
const REF = 'cpu-norm-rotary-decomposed';
const decomposed = createCpuBackend({ name: REF });
for (const op of FUSED) (decomposed.kernels as Map<OpDef, unknown>).delete(op);
T.registerBackend(decomposed);

/** The op's result on the default (fused) backend and on the decomposing one, as logical values. */
function both(run: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): [number[], number[]] {
  const fused = run(...inputs);
  const reference = run(...inputs.map((t) => T.tensor(logical(t), { shape: [...t.shape], dtype: t.dtype, device: REF })));
  expect(fused.device).toBe('cpu');
  expect(fused.shape).toEqual(reference.shape);
  expect(fused.dtype).toBe(reference.dtype);
  return [logical(fused), logical(reference)];
}

const tol = (dtype: DType): [number, number] => (dtype === 'f32' ? [1e-5, 1e-6] : [1e-12, 1e-13]);
/** Shapes of rank 1-4 with a last dim >= 1, other dims 0-7 (size-1 and empty ones included). */
const shapeArb = fc.tuple(
  fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 8, arbitrary: fc.integer({ min: 2, max: 7 }) }), { maxLength: 3 }),
  fc.integer({ min: 1, max: 9 }),
).map(([lead, d]) => [...lead, d]);
const floatArb = fc.constantFrom<DType>('f32', 'f64');
const operandArb = fc.tuple(layoutArb, seedArb);

test('the default CPU backend registers a kernel for rmsNorm, rotary and their gradients', () => {
  for (const op of FUSED) expect(T.getBackend().kernels.has(op), op.name).toBe(true);
});

test('rmsNorm and rmsNormBackward, with and without weight, equal the decompositions', () => {
  fc.assert(
    fc.property(shapeArb, operandArb, operandArb, operandArb, fc.boolean(), floatArb, fc.constantFrom(1e-6, 1e-2), (shape, [lx, sx], [ldy, sdy], [lw, sw], hasW, dtype, eps) => {
      const d = shape[shape.length - 1]!;
      const x = makeView(shape, lx as Layout, dtype, sx);
      const dy = makeView(shape, ldy as Layout, dtype, sdy);
      const w = makeView([d], lw as Layout, dtype, sw);
      const [rtol, atol] = tol(dtype);
      const what = `${dtype} ${lx}[${shape}] w ${hasW} eps ${eps}`;
      const [y, wantY] = both((...xs) => T.rmsNorm(xs[0]!, hasW ? xs[1] : undefined, eps), hasW ? [x, w] : [x]);
      expectClose(y, wantY, rtol * 4, atol * 4, `rmsNorm ${what}`);
      const [dx, wantDx] = both((...xs) => T.apply(T.OPS.rmsNormBackward, xs, { eps, hasWeight: hasW }), hasW ? [x, dy, w] : [x, dy]);
      expectClose(dx, wantDx, rtol * 20, atol * 20, `rmsNormBackward ${what}`);
    }),
    { numRuns: numRuns() },
  );
});

test('rmsNorm of an f32 input with an f64 weight is f64, within the f32 statistics of the decomposition', () => {
  const x = makeView([3, 5], 'transposed', 'f32', 3);
  const w = makeView([5], 'dense', 'f64', 4);
  const [y, want] = both((a, b) => T.rmsNorm(a!, b), [x, w]);
  expectClose(y, want, 4e-7, 0, 'mixed dtypes');
});

test('rotary and rotaryBackward equal the decompositions, tables broadcast from smaller shapes', () => {
  const caseArb = shapeArb.chain((lead) => {
    const shape = [...lead.slice(0, -1), 2 * lead[lead.length - 1]!];
    return fc.tuple(fc.constant(shape), broadcastableArb(shape.slice(0, -1)), operandArb, operandArb, operandArb, floatArb);
  });
  fc.assert(
    fc.property(caseArb, ([shape, tableLead, [lx, sx], [lc, sc], [ls, ss], dtype]) => {
      const d = shape[shape.length - 1]!;
      const table = [...tableLead, d];
      const x = makeView(shape, lx as Layout, dtype, sx);
      const cos = makeView(table, lc as Layout, dtype, sc, 'unit');
      const sin = makeView(table, ls as Layout, dtype, ss, 'unit');
      const [rtol, atol] = tol(dtype);
      const what = `${dtype} x ${lx}[${shape}] tables ${lc}/${ls}[${table}]`;
      const [y, wantY] = both((a, c, s) => T.applyRotary(a!, c!, s!), [x, cos, sin]);
      expectClose(y, wantY, rtol, atol, `rotary ${what}`);
      const [dx, wantDx] = both((g, c, s) => T.apply(T.OPS.rotaryBackward, [g!, c!, s!], undefined), [x, cos, sin]);
      expectClose(dx, wantDx, rtol, atol, `rotaryBackward ${what}`);
    }),
    { numRuns: numRuns() },
  );
});

test('rotary tables from rotaryTables on a (B, H, T, D) transposed x', () => {
  const { cos, sin } = T.rotaryTables(7, 8, { offset: 3 });
  const x = makeView([2, 3, 7, 8], 'transposed', 'f32', 9);
  const [y, want] = both((a, c, s) => T.applyRotary(a!, c!, s!), [x, cos, sin]);
  expectClose(y, want, 1e-6, 1e-7, 'rotary tables');
});
