// The fused CPU kernels of composites (softmax, logSoftmax, layerNorm, per-position cross-entropy,
// and their gradients) held to the ops' decompositions, run on a CPU backend without those kernels,
// over strided views (dense, offset, transposed, sliced, broadcast), odd, size-1 and empty dims,
// any axis, f32 and f64.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, OpDef, Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { expectClose, layoutArb, logical, makeView, numRuns, seedArb, type Layout } from './views.js';

const FUSED: OpDef[] = [
  T.OPS.softmax, T.OPS.logSoftmax, T.OPS.softmaxBackward, T.OPS.logSoftmaxBackward,
  T.OPS.layerNorm, T.OPS.layerNormBackward, T.OPS.crossEntropyLosses, T.OPS.crossEntropyBackward,
];
const decomposed = createCpuBackend({ name: 'cpu-decomposed' });
for (const op of FUSED) (decomposed.kernels as Map<OpDef, unknown>).delete(op);
T.registerBackend(decomposed);

/** The op's result on the default (fused) backend and on the decomposing one, as logical values. */
function both(run: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): [number[], number[], Tensor] {
  const fused = run(...inputs);
  const moved = inputs.map((t) => T.tensor(logical(t), { shape: [...t.shape], dtype: t.dtype, device: 'cpu-decomposed' }));
  const reference = run(...moved);
  expect(fused.shape).toEqual(reference.shape);
  expect(fused.dtype).toBe(reference.dtype);
  return [logical(fused), logical(reference), fused];
}

const tol = (dtype: DType): [number, number] => (dtype === 'f32' ? [2e-5, 2e-6] : [1e-12, 1e-13]);
const shapeArb = fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 8, arbitrary: fc.integer({ min: 2, max: 9 }) }), { minLength: 1, maxLength: 4 });
const floatArb = fc.constantFrom<DType>('f32', 'f64');
const operandArb = fc.tuple(layoutArb, seedArb);
/** The fused kernels are registered and reached (not silently decomposed). */
test('the default CPU backend registers a kernel for each fused composite', () => {
  const backend = T.getBackend();
  for (const op of FUSED) expect(backend.kernels.has(op), op.name).toBe(true);
});

describe('fused softmax / logSoftmax and their gradients equal the decompositions', () => {
  const cases: [string, (x: Tensor, dy: Tensor, axis: number) => Tensor][] = [
    ['softmax', (x, _dy, axis) => T.softmax(x, axis)],
    ['logSoftmax', (x, _dy, axis) => T.logSoftmax(x, axis)],
    ['softmaxBackward', (x, dy, axis) => T.apply(T.OPS.softmaxBackward, [x, dy], { axis })],
    ['logSoftmaxBackward', (x, dy, axis) => T.apply(T.OPS.logSoftmaxBackward, [x, dy], { axis })],
  ];
  for (const [name, run] of cases) {
    test(name, () => {
      fc.assert(
        fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length - 1))), operandArb, operandArb, floatArb, ([shape, axis], [lx, sx], [ldy, sdy], dtype) => {
          const x = makeView(shape, lx as Layout, dtype, sx);
          const dy = makeView(shape, ldy as Layout, dtype, sdy);
          if (shape[axis] === 0) {
            // The decomposition's max has no value over an empty dim: both refuse.
            expect(() => run(x, dy, axis)).toThrow(/empty dim/);
            expect(() => run(...([x, dy].map((t) => T.tensor(logical(t), { shape: [...t.shape], dtype, device: 'cpu-decomposed' })) as [Tensor, Tensor]), axis)).toThrow(/empty dim/);
            return;
          }
          const [got, want] = both((a, b) => run(a, b, axis), [x, dy]);
          expectClose(got, want, ...tol(dtype), `${name} ${dtype} ${lx}[${shape}] axis ${axis}`);
        }),
        { numRuns: numRuns() },
      );
    });
  }

  test('rows of -inf, NaN and huge values behave as the decomposition does', () => {
    const x = T.tensor([[-Infinity, -Infinity, -Infinity], [NaN, 1, 2], [1e30, -1e30, 0], [3, 3, 3]], { dtype: 'f32' });
    const dy = T.tensor([[1, 2, 3], [1, 1, 1], [0.5, -1, 2], [1, 0, -1]], { dtype: 'f32' });
    for (const run of [(a: Tensor) => T.softmax(a), (a: Tensor) => T.logSoftmax(a), (a: Tensor, b: Tensor) => T.apply(T.OPS.softmaxBackward, [a, b], { axis: 1 })]) {
      const [got, want] = both(run, [x, dy]);
      expectClose(got, want, 1e-6, 0, 'edge rows');
    }
  });
});

/**
 * The decomposition's rounding error scale for layerNorm rows: unit roundoff x max|x| x the largest
 * 1/sqrt(var + eps). A near-constant row has a tiny variance, so the f32 decomposition's centred
 * values (x minus a rounded mean) are amplified by up to 1/sqrt(eps); the fused kernel centres in double.
 */
function rowErrorScale(x: Tensor, eps: number): number {
  const v = logical(x);
  const d = x.shape[x.rank - 1]!;
  let maxAbs = 0;
  let maxRstd = 0;
  for (let r = 0; r + d <= v.length && d > 0; r += d) {
    const row = v.slice(r, r + d);
    const mean = row.reduce((a, b) => a + b, 0) / d;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    maxRstd = Math.max(maxRstd, 1 / Math.sqrt(variance + eps));
    for (const e of row) maxAbs = Math.max(maxAbs, Math.abs(e));
  }
  return (x.dtype === 'f32' ? 2 ** -23 : 2 ** -52) * maxAbs * maxRstd;
}

describe('fused layerNorm and its input gradient equal the decompositions', () => {
  test('layerNorm with and without weight and bias', () => {
    fc.assert(
      fc.property(shapeArb, operandArb, operandArb, operandArb, fc.boolean(), fc.boolean(), floatArb, fc.constantFrom(1e-5, 1e-2), (shape, [lx, sx], [lw, sw], [lb, sb], hasW, hasB, dtype, eps) => {
        const d = shape[shape.length - 1]!;
        const x = makeView(shape, lx as Layout, dtype, sx);
        const w = makeView([d], lw as Layout, dtype, sw);
        const b = makeView([d], lb as Layout, dtype, sb);
        const inputs = [x, ...(hasW ? [w] : []), ...(hasB ? [b] : [])];
        const [got, want] = both((...xs) => T.layerNorm(xs[0]!, hasW ? xs[1] : undefined, hasB ? xs[hasW ? 2 : 1] : undefined, eps), inputs);
        const [rtol, atol] = tol(dtype);
        expectClose(got, want, rtol * 10, atol * 10 + 64 * rowErrorScale(x, eps), `layerNorm ${dtype} ${lx}[${shape}] w ${hasW} b ${hasB}`);
      }),
      { numRuns: numRuns() },
    );
  });

  test('layerNormBackward with and without weight', () => {
    fc.assert(
      fc.property(shapeArb, operandArb, operandArb, operandArb, fc.boolean(), floatArb, (shape, [lx, sx], [ldy, sdy], [lw, sw], hasW, dtype) => {
        const d = shape[shape.length - 1]!;
        const x = makeView(shape, lx as Layout, dtype, sx);
        const dy = makeView(shape, ldy as Layout, dtype, sdy);
        const w = makeView([d], lw as Layout, dtype, sw);
        const [got, want] = both((...xs) => T.apply(T.OPS.layerNormBackward, xs, { eps: 1e-5, hasWeight: hasW }), hasW ? [x, dy, w] : [x, dy]);
        const [rtol, atol] = tol(dtype);
        const scale = rowErrorScale(x, 1e-5);
        expectClose(got, want, rtol * 50, atol * 50 + 256 * scale * Math.max(1, scale / (dtype === 'f32' ? 2 ** -23 : 2 ** -52)), `layerNormBackward ${dtype} ${lx}[${shape}] w ${hasW}`);
      }),
      { numRuns: numRuns() },
    );
  });
});

describe('fused cross-entropy (per position) and its gradient equal the decompositions', () => {
  const caseArb = shapeArb.chain((shape) => {
    const c = Math.max(shape[shape.length - 1]!, 1);
    const rows = shape.slice(0, -1);
    const n = rows.reduce((a, b) => a * b, 1);
    return fc.tuple(
      fc.constant([...rows, c]),
      fc.array(fc.oneof(fc.integer({ min: 0, max: c - 1 }), fc.constant(-100)), { minLength: n, maxLength: n }),
      operandArb,
      operandArb,
      fc.constantFrom(0, 0.1),
      floatArb,
    );
  });

  test('losses and logits gradient, ignored targets and label smoothing included', () => {
    fc.assert(
      fc.property(caseArb, ([shape, targetValues, [lx, sx], [lg, sg], smoothing, dtype]) => {
        const logits = makeView(shape, lx as Layout, dtype, sx);
        const targets = T.tensor(targetValues, { shape: shape.slice(0, -1), dtype: 'i32' });
        const g = makeView(shape.slice(0, -1), lg as Layout, dtype, sg);
        const attrs = { ignoreIndex: -100, labelSmoothing: smoothing };
        const [rtol, atol] = tol(dtype);
        const [loss, wantLoss] = both((a, t) => T.apply(T.OPS.crossEntropyLosses, [a, t], attrs), [logits, targets]);
        expectClose(loss, wantLoss, rtol * 10, atol * 10, `crossEntropyLosses ${dtype} ${lx}[${shape}] s ${smoothing}`);
        const [grad, wantGrad] = both((a, t, gg) => T.apply(T.OPS.crossEntropyBackward, [a, t, gg], attrs), [logits, targets, g]);
        expectClose(grad, wantGrad, rtol * 10, atol * 10, `crossEntropyBackward ${dtype} ${lx}[${shape}] s ${smoothing}`);
      }),
      { numRuns: numRuns() },
    );
  });

  test('the reduced crossEntropy and its gradient through autograd-free vjp equal the decomposition', () => {
    const logits = makeView([3, 5, 7], 'transposed', 'f32', 11);
    const targets = T.tensor([0, 6, -100, 3, 2, 1, 5, 4, 6, 0, 1, 2, 3, -100, 6], { shape: [3, 5], dtype: 'i32' });
    const [got, want] = both((a, t) => T.crossEntropy(a, t, { labelSmoothing: 0.05 }), [logits, targets]);
    expectClose(got, want, 1e-6, 1e-7, 'crossEntropy mean');
  });

  test('logits with no classes refuse, as the decomposition does', () => {
    const targets = T.tensor([0, 0], { dtype: 'i32' });
    const attrs = { ignoreIndex: -100, labelSmoothing: 0 };
    expect(() => T.apply(T.OPS.crossEntropyLosses, [T.zeros([2, 0]), targets], attrs)).toThrow(/no classes/);
    expect(() => T.apply(T.OPS.crossEntropyLosses, [T.zeros([2, 0], { device: 'cpu-decomposed' }), T.tensor([0, 0], { dtype: 'i32', device: 'cpu-decomposed' })], attrs)).toThrow();
  });

  test('an out-of-range target is an error naming the value and the valid range', () => {
    const logits = T.zeros([2, 3]);
    expect(() => T.apply(T.OPS.crossEntropyLosses, [logits, T.tensor([1, 3], { dtype: 'i32' })], { ignoreIndex: -100, labelSmoothing: 0 })).toThrow(/index 3 at position \[1\].*expected 0 <= index < 3/);
    expect(() => T.apply(T.OPS.crossEntropyBackward, [logits, T.tensor([-2, 0], { dtype: 'i32' }), T.ones([2])], { ignoreIndex: -100, labelSmoothing: 0 })).toThrow(/index -2 at position \[0\].*negative indices/);
  });
});
