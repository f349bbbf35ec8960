import fc from 'fast-check';
import { describe, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { erf } from '../src/index.js';
import { expectClose, layoutArb, logical, makeView, numRuns, seedArb, shapeArb, type ValueKind } from './views.js';

interface UnarySpec {
  name: string;
  run: (x: Tensor) => Tensor;
  ref: (x: number) => number;
  kind: ValueKind;
  dtypes: DType[];
}

// References are written independently of the kernels' scalar table (textbook forms).
const SPECS: UnarySpec[] = [
  { name: 'neg', run: T.neg, ref: (x) => -x, kind: 'real', dtypes: ['f32', 'f64', 'i32', 'u8'] },
  { name: 'abs', run: T.abs, ref: Math.abs, kind: 'real', dtypes: ['f32', 'f64', 'i32'] },
  { name: 'sign', run: T.sign, ref: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), kind: 'smallInt', dtypes: ['f32', 'f64', 'i32'] },
  { name: 'exp', run: T.exp, ref: Math.exp, kind: 'real', dtypes: ['f32', 'f64'] },
  { name: 'log', run: T.log, ref: Math.log, kind: 'positive', dtypes: ['f32', 'f64'] },
  { name: 'log1p', run: T.log1p, ref: Math.log1p, kind: 'unit', dtypes: ['f32', 'f64'] },
  { name: 'sqrt', run: T.sqrt, ref: Math.sqrt, kind: 'positive', dtypes: ['f32', 'f64'] },
  { name: 'rsqrt', run: T.rsqrt, ref: (x) => Math.sqrt(1 / x), kind: 'positive', dtypes: ['f32', 'f64'] },
  { name: 'sin', run: T.sin, ref: Math.sin, kind: 'real', dtypes: ['f32', 'f64'] },
  { name: 'cos', run: T.cos, ref: Math.cos, kind: 'real', dtypes: ['f32', 'f64'] },
  { name: 'tanh', run: T.tanh, ref: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1), kind: 'real', dtypes: ['f32', 'f64'] },
  { name: 'sigmoid', run: T.sigmoid, ref: (x) => 1 / (1 + Math.exp(-x)), kind: 'real', dtypes: ['f32', 'f64'] },
  { name: 'relu', run: T.relu, ref: (x) => (x > 0 ? x : 0), kind: 'real', dtypes: ['f32', 'f64', 'i32'] },
  { name: 'erf', run: T.erf, ref: erf, kind: 'real', dtypes: ['f32', 'f64'] },
  { name: 'softplus', run: T.softplus, ref: (x) => Math.log(1 + Math.exp(x)), kind: 'real', dtypes: ['f32', 'f64'] },
  { name: 'clamp', run: (x) => T.clamp(x, -1, 1.5), ref: (x) => Math.min(1.5, Math.max(-1, x)), kind: 'real', dtypes: ['f32', 'f64', 'i32'] },
];

function wrap(dtype: DType, v: number): number {
  switch (dtype) {
    case 'f32':
      return Math.fround(v);
    case 'i32':
      return v | 0;
    case 'u8':
      return v & 255;
    default:
      return v;
  }
}

describe('unary kernels on strided views', () => {
  for (const spec of SPECS) {
    test(`${spec.name} (${spec.dtypes.join(', ')})`, () => {
      fc.assert(
        fc.property(shapeArb(), layoutArb, seedArb, fc.constantFrom(...spec.dtypes), (shape, layout, seed, dtype) => {
          const x = makeView(shape, layout, dtype, seed, spec.kind);
          const y = spec.run(x);
          const outDtype = y.dtype;
          const expected = logical(x).map((v) => wrap(outDtype, spec.ref(v)));
          const f32 = outDtype === 'f32';
          expectClose(logical(y), expected, f32 ? 2e-6 : 1e-13, f32 ? 1e-7 : 1e-15, `${spec.name} ${dtype} ${layout} [${shape}]`);
        }),
        { numRuns: numRuns() },
      );
    });
  }

  test('edge values: NaN passes through relu/clamp/abs/sign, softplus is stable at the extremes', () => {
    const x = T.tensor([NaN, -Infinity, Infinity, -1000, 1000, -0.5, 30], { dtype: 'f64' });
    expectClose(logical(T.relu(x)), [NaN, 0, Infinity, 0, 1000, 0, 30], 0, 0, 'relu');
    expectClose(logical(T.clamp(x, -1, 1)), [NaN, -1, 1, -1, 1, -0.5, 1], 0, 0, 'clamp');
    expectClose(logical(T.abs(x)), [NaN, Infinity, Infinity, 1000, 1000, 0.5, 30], 0, 0, 'abs');
    expectClose(logical(T.sign(x)), [NaN, -1, 1, -1, 1, -1, 1], 0, 0, 'sign');
    expectClose(logical(T.sigmoid(x)), [NaN, 0, 1, 0, 1, 1 / (1 + Math.exp(0.5)), 1 / (1 + Math.exp(-30))], 1e-15, 0, 'sigmoid');
    const sp = logical(T.softplus(T.tensor([-800, -50, 0, 25, 800], { dtype: 'f64' })));
    expectClose(sp, [0, Math.exp(-50), Math.LN2, 25 + Math.log1p(Math.exp(-25)), 800], 1e-12, 0, 'softplus');
  });
});
