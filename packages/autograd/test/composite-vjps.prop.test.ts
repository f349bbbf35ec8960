// The gradient rules of the fused-able composites (softmax, logSoftmax, gelu, layerNorm, rmsNorm, rotary,
// crossEntropy and its per-position losses) equal the gradient through their decompositions: the
// same inputs and output gradient, once through `apply` (the op's vjp, i.e. its backward op) and once
// through `decompose` run under grad (its primitives' rules).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPS, Generator, apply, detach, randn, registerBackend, tensor, tidy, withGradMode, type CompositeDef, type DType, type OpDef, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { gradients } from '../src/index.js';
import { numRuns, shapeArb, valuesArb } from '../src/testing.js';

beforeAll(() => {
  // Primitives only: a CPU kernel for a composite (softmax, softmaxBackward, ...) would stand in for
  // the decomposition on one side or the other; this holds the rules and the backward ops' decompositions.
  const cpu = createCpuBackend();
  for (const op of [...cpu.kernels.keys()]) if (op.kind === 'composite') (cpu.kernels as Map<OpDef, unknown>).delete(op);
  registerBackend(cpu);
});

/** One input: its values, shape, dtype, and whether the gradient with respect to it is compared. */
interface Input {
  values: number[];
  shape: number[];
  dtype?: DType;
  differentiate?: boolean;
}

/** Gradients of `op` at `inputs` along a random output gradient, through the vjp and through the decomposition. */
function expectVjpEqualsDecomposition<A>(op: OpDef<A>, inputs: Input[], attrs: A, tol: { rtol: number; atol: number } = { rtol: 1e-10, atol: 1e-12 }): void {
  tidy(() => {
    const build = () => inputs.map((d) => {
      const t = tensor(d.values, { shape: d.shape, dtype: d.dtype ?? 'f64' });
      return d.differentiate === false ? t : detach(t).requiresGrad_();
    });
    const viaVjp = build();
    const viaDecomposition = build();
    const wanted = (xs: Tensor[]) => xs.filter((_, i) => inputs[i]!.differentiate !== false);
    const out = withGradMode(true, () => apply(op, viaVjp, attrs));
    const outDecomposed = withGradMode(true, () => (op as CompositeDef<A>).decompose(viaDecomposition, attrs));
    expect(out.shape).toEqual(outDecomposed.shape);
    expect(out.gradNode?.op, `${op.name} records its own node (has a vjp)`).toBe(op);
    const u = randn(out.shape, { dtype: out.dtype, generator: new Generator(3) });
    const g1 = gradients(out, wanted(viaVjp), { gradient: u });
    const g2 = gradients(outDecomposed, wanted(viaDecomposition), { gradient: u });
    g1.forEach((a, k) => {
      const b = g2[k]!;
      expect(a.shape, `${op.name}: gradient ${k} shape`).toEqual(b.shape);
      expect(a.dtype, `${op.name}: gradient ${k} dtype`).toBe(b.dtype);
      const x = Array.from(a.dataSync() as ArrayLike<number>);
      const y = Array.from(b.dataSync() as ArrayLike<number>);
      x.forEach((v, i) => {
        const w = y[i]!;
        if (!(Math.abs(v - w) <= tol.atol + tol.rtol * Math.abs(w) || (Number.isNaN(v) && Number.isNaN(w)))) {
          expect.fail(`${op.name}: gradient ${k} element ${i}: vjp ${v}, decomposition ${w} (inputs ${inputs.map((d) => `[${d.shape}] ${d.dtype ?? 'f64'}`).join(', ')}, attrs ${JSON.stringify(attrs)})`);
        }
      });
    });
  });
}

const rows = shapeArb({ minRank: 1, maxRank: 3, maxDim: 5 });
const withValues = (shape: number[], opts = {}) => valuesArb(shape, opts).map((values) => ({ shape, values }));
/** Values made distinct so no row is constant (layerNorm's rstd would be 1/sqrt(eps)). */
const spread = (d: { shape: number[]; values: number[] }) => ({ ...d, values: d.values.map((v, i) => v + i * 0.0137) });

describe('composite vjps equal the gradient through the decomposition (CPU, f64)', () => {
  for (const op of [OPS.softmax, OPS.logSoftmax]) {
    it(op.name, () => {
      fc.assert(
        fc.property(rows.chain((s) => fc.tuple(withValues(s, { min: -6, max: 6 }), fc.nat({ max: s.length - 1 }))), ([x, axis]) => {
          expectVjpEqualsDecomposition(op, [x], { axis });
        }),
        { numRuns: numRuns() },
      );
    });
  }

  it('gelu (exact and tanh forms)', () => {
    fc.assert(
      fc.property(rows.chain((s) => fc.tuple(withValues(s, { min: -8, max: 8 }), fc.constantFrom<'none' | 'tanh'>('none', 'tanh'))), ([x, approximate]) => {
        expectVjpEqualsDecomposition(OPS.gelu, [x], { approximate });
      }),
      { numRuns: numRuns() },
    );
  });

  it('layerNorm (weight and bias optional)', () => {
    fc.assert(
      fc.property(
        rows.filter((s) => s.at(-1)! > 1).chain((s) => fc.tuple(withValues(s), withValues([s.at(-1)!]), withValues([s.at(-1)!]), fc.boolean(), fc.boolean(), fc.boolean())),
        ([x, w, b, hasWeight, hasBias, wConst]) => {
          const inputs: Input[] = [spread(x), ...(hasWeight ? [{ ...w, differentiate: !wConst }] : []), ...(hasBias ? [b] : [])];
          expectVjpEqualsDecomposition(OPS.layerNorm, inputs, { eps: 1e-5, hasWeight, hasBias });
        },
      ),
      { numRuns: numRuns() },
    );
  });

  it('rmsNorm (weight optional; f64, and f32/f16 x with an f32 weight: the f32 compute and casts)', () => {
    fc.assert(
      fc.property(rows.chain((s) => fc.tuple(withValues(s), withValues([s.at(-1)!]), fc.boolean(), fc.constantFrom<DType>('f64', 'f32', 'f16'))), ([x, w, hasWeight, dtype]) => {
        const wDtype: DType = dtype === 'f64' ? 'f64' : 'f32';
        const xs = spread(x);
        const inputs: Input[] = [{ ...xs, dtype }, ...(hasWeight ? [{ ...w, dtype: wDtype }] : [])];
        // f32/f16 differ from the decomposition only by f32 reassociation, which a row of values near 0
        // amplifies by its rstd = 1/sqrt(mean(x²) + eps): the tolerance grows with the largest one.
        const d = xs.shape.at(-1)!;
        let amplification = 1;
        for (let r = 0; r < xs.values.length; r += d) {
          const ms = xs.values.slice(r, r + d).reduce((a, v) => a + v * v, 0) / d;
          amplification = Math.max(amplification, 1 / Math.sqrt(ms + 1e-6));
        }
        const base = dtype === 'f32' ? 1e-5 : 2e-3;
        const tol = dtype === 'f64' ? undefined : { rtol: base * amplification, atol: base * amplification };
        expectVjpEqualsDecomposition(OPS.rmsNorm, inputs, { eps: 1e-6, hasWeight }, tol);
      }),
      // Regression (found by fast-check): a row of values near 0, rstd ~ 100.
      { numRuns: numRuns(), examples: [[[{ shape: [2], values: [-5.91248183745563e-9, 0] }, { shape: [2], values: [0, 0] }, false, 'f32']]] },
    );
  });

  it('rotary (x, and cos/sin only when they need a gradient)', () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean())
          .chain(([h, t, half, dCos, dSin]) =>
            fc.tuple(withValues([h, t, 2 * half]), withValues([t, 2 * half]), withValues([t, 2 * half]), fc.constant(dCos), fc.constant(dSin)),
          ),
        ([x, c, s, dCos, dSin]) => {
          expectVjpEqualsDecomposition(OPS.rotary, [x, { ...c, differentiate: dCos }, { ...s, differentiate: dSin }], undefined);
        },
      ),
      { numRuns: numRuns() },
    );
  });

  const ceArb = fc
    .tuple(shapeArb({ minRank: 1, maxRank: 2, maxDim: 4 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom(0, 0.1, 0.5), fc.constantFrom<'mean' | 'sum' | 'none'>('mean', 'sum', 'none'))
    .chain(([lead, c, labelSmoothing, reduction]) => {
      const n = lead.reduce((a, b) => a * b, 1);
      return fc.tuple(
        withValues([...lead, c], { min: -8, max: 8 }),
        fc.array(fc.integer({ min: -1, max: c - 1 }), { minLength: n, maxLength: n }).map((ts) => ({ shape: lead, values: ts.map((v) => (v < 0 ? -100 : v)) })),
        fc.constant(labelSmoothing),
        fc.constant(reduction),
      );
    });

  it('crossEntropy (ignored targets, label smoothing, every reduction)', () => {
    fc.assert(
      fc.property(ceArb, ([logits, targets, labelSmoothing, reduction]) => {
        expectVjpEqualsDecomposition(OPS.crossEntropy, [logits, { ...targets, dtype: 'i32', differentiate: false }], { ignoreIndex: -100, labelSmoothing, reduction });
      }),
      { numRuns: numRuns() },
    );
  });

  it('crossEntropyLosses (per position, 0 where ignored)', () => {
    fc.assert(
      fc.property(ceArb, ([logits, targets, labelSmoothing]) => {
        expectVjpEqualsDecomposition(OPS.crossEntropyLosses, [logits, { ...targets, dtype: 'i32', differentiate: false }], { ignoreIndex: -100, labelSmoothing });
      }),
      { numRuns: numRuns() },
    );
  });

  it('regression: every target ignored with reduction mean gives NaN gradients, as the decomposition does', () => {
    expectVjpEqualsDecomposition(
      OPS.crossEntropy,
      [{ shape: [2, 3], values: [1, 2, 3, 4, 5, 6] }, { shape: [2], values: [-100, -100], dtype: 'i32', differentiate: false }],
      { ignoreIndex: -100, labelSmoothing: 0, reduction: 'mean' },
    );
  });
});
