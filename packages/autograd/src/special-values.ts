// Named special values for the elementwise and reduction kernels, shared by the kernels packages:
// the random cross-backend properties draw finite values in [-4, 4] (positive bases for pow) and
// compare with an absolute tolerance, so they never reach NaN, infinities, negative bases, values
// near 0 or tanh's large arguments. Each case must equal the CPU backend: NaN where it gives NaN,
// infinities exactly, finite values within a relative error (no absolute slack, so 1e-8 against
// 3e-8 fails). Each package registers the checks as tests; a check returns its mismatch lines.
import * as T from '@tessera/tensor';

/** Relative error allowed for finite results (f32 kernels against the CPU's double, rounded once). */
const REL = 1e-5;

/** Where `device`'s result differs from the CPU's, one line per element naming the inputs. */
async function mismatches(device: string, what: string, inputs: readonly (readonly (number | string)[])[], build: (dev: string) => T.Tensor): Promise<string[]> {
  const read = async (dev: string): Promise<number[]> => {
    const y = T.tidy(() => build(dev));
    try {
      return Array.from((await y.data()) as ArrayLike<number>);
    } finally {
      y.dispose();
    }
  };
  const cpu = await read('cpu');
  const other = await read(device);
  const out: string[] = [];
  cpu.forEach((a, i) => {
    const b = other[i]!;
    // -0 and 0 are one value here, as in expectSame.
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return;
    if (Number.isFinite(a) && Math.abs(a - b) <= REL * Math.abs(a)) return;
    const args = inputs.length > 0 ? inputs.map((xs) => xs[i % xs.length]).join(', ') : `element ${i}`;
    out.push(`${what}(${args}): cpu ${a}, ${device} ${b}`);
  });
  return out;
}

const f32 = (xs: readonly number[], dev: string) => T.tensor([...xs], { dtype: 'f32', device: dev });

/** Unary ops and the inputs each must get right. */
const UNARY_CASES: [string, (x: T.Tensor) => T.Tensor, number[]][] = [
  ['sign', T.sign, [NaN, 0, 2, -3, 1e-30, -1e-30, Infinity, -Infinity]],
  ['neg', T.neg, [NaN, Infinity, -Infinity, 1e-30]],
  ['abs', T.abs, [NaN, Infinity, -Infinity, -1e-30]],
  ['exp', T.exp, [NaN, Infinity, -Infinity, 100, -80, 20, 0, 1e-8]],
  ['log', T.log, [NaN, Infinity, 0, -1, -Infinity, 1, 2, 1e-30, 1e30]],
  ['sqrt', T.sqrt, [NaN, Infinity, 0, -1, -Infinity, 4, 1e-30]],
  ['rsqrt', T.rsqrt, [NaN, Infinity, 0, -1, -Infinity, 4, 1e-30]],
  ['sin', T.sin, [NaN, Infinity, -Infinity, 1e-8, -1e-8, 0]],
  ['cos', T.cos, [NaN, Infinity, -Infinity, 1e-8, 0]],
  ['sigmoid', T.sigmoid, [NaN, Infinity, -Infinity, -80, 80, 0, 1e-8]],
  ['relu', T.relu, [NaN, -1, 0, 2, 1e-30, Infinity, -Infinity]],
  ['clamp[-1,1.5]', (x) => T.clamp(x, -1, 1.5), [NaN, -5, 5, 0.5, -1, 1.5, Infinity, -Infinity]],
  ['log1p', T.log1p, [1e-8, -1e-8, 1e-5, -1e-5, 3e-3, 0.1, -0.2, 0.45, -0.45, 0.6, -0.6, 2, 1e6, 3e38, 0, -1, -2, NaN, Infinity]],
  ['softplus', T.softplus, [-80, -30, -20, -16, -14, -10, -1, 0, 1e-6, 1, 10, 19, 21, 100, NaN, Infinity, -Infinity]],
  [
    'tanh',
    T.tanh,
    [1e-8, -1e-8, 1e-5, 1e-4, 3e-4, 4e-4, 5e-4, 0.01, 0.3, -0.49, 0.51, 1, 5, 9, 10, 20, 44, 45, 50, 100, 1e4, -50, -1e4, 3e38, NaN, Infinity, -Infinity],
  ],
  ['erf', T.erf, [1e-8, -1e-8, 1e-5, 1e-3, 0.1, 0.49, 0.51, -1, 2, 3.9, 4.1, 6, 10, -10, NaN, Infinity, -Infinity]],
  // gelu is a composite of the above (tanh or erf, then mul/add): values where the CPU's rounded
  // intermediates leave no cancellation (1 + tanh(u) for very negative u is 0 on both).
  ['gelu', (x) => T.gelu(x), [-1e4, -100, -50, 1e-6, 0.5, 1, 3, 10, 20, 50, 100, 1e4, NaN, Infinity]],
  ['gelu(tanh)', (x) => T.gelu(x, { approximate: 'tanh' }), [-1e4, -100, -50, 1e-6, 0.5, 1, 3, 10, 20, 50, 100, 1e4, NaN, Infinity, -Infinity]],
];

/** pow's [base, exponent] pairs: negative and zero bases, integer and infinite exponents, NaN. */
const POW_CASES: [number, number][] = [
  [-2, 2], [-3, 3], [0.5, 2], [-2, -2], [-2, -3], [-0.5, 3], [-8, 1 / 3], [-1.5, 2.5], [-4, 0.5],
  [0, 0], [0, 2], [0, 3], [0, 0.5], [0, -1], [0, -2], [0, -0.5], [-0, 3], [-0, -1],
  [2, 0.5], [4, 0.5], [10, 30], [3e-5, 2], [2, 200], [0.5, 200], [-2, 101], [-2, 24],
  [1, NaN], [1, Infinity], [-1, Infinity], [-1, -Infinity], [NaN, 0], [NaN, 2], [2, NaN],
  [0.5, Infinity], [0.5, -Infinity], [2, Infinity], [2, -Infinity], [-0.5, Infinity], [-3, Infinity], [-3, -Infinity],
  [Infinity, 2], [Infinity, -1], [-Infinity, 3], [-Infinity, 2], [-Infinity, -3], [-Infinity, 0.5],
];

/** maximum/minimum's [a, b] pairs. */
const MINMAX_CASES: [number, number][] = [
  [1, NaN], [NaN, 2], [NaN, NaN], [2, 3], [3, 2], [-Infinity, 5], [Infinity, -Infinity], [-1, -1], [NaN, Infinity], [-Infinity, NaN],
];

/** Rows for max/min/argmax/argmin along the last axis: NaN first, last, after the extreme, alone, twice. */
const ROWS = [
  [1, NaN, 3, 2],
  [NaN, 5, NaN, 0],
  [-Infinity, -1, -2, -1],
  [7, 9, 10, NaN],
  [2, 2, 1, 1],
  [Infinity, NaN, Infinity, -Infinity],
];

/** One named special-value check: resolves to one line per element where `device` differs from the CPU. */
export interface SpecialValueCheck {
  name: string;
  mismatches: () => Promise<string[]>;
}

/**
 * Rows of logits for softmax, logSoftmax, logsumexp and cross-entropy: masked entries (-Infinity, as
 * attention masks write them), a fully masked row (NaN on the CPU), +Infinity, NaN, huge spreads.
 */
const LOGIT_ROWS = [
  [-Infinity, 0, 1, -Infinity],
  [-Infinity, -Infinity, -Infinity, -Infinity],
  [Infinity, 0, 1, 2],
  [1, NaN, 3, 2],
  [1e30, -1e30, 0, 1],
  [-100, -101, -102, -103],
];

/** The special-value checks for the backend named `device`. */
export function specialValueChecks(device: string): SpecialValueCheck[] {
  return [
    {
      name: 'unary special values: NaN through sign/relu/clamp, log1p/softplus/tanh/erf near 0 (relative error) and at large |x|, gelu at large inputs',
      mismatches: async () => {
        const bad: string[] = [];
        for (const [name, op, xs] of UNARY_CASES) bad.push(...(await mismatches(device, name, [xs], (dev) => op(f32(xs, dev)))));
        return bad;
      },
    },
    {
      name: 'pow special values: negative and zero bases, integer, fractional and infinite exponents, NaN (C pow rules, as on the CPU)',
      mismatches: () => {
        const a = POW_CASES.map(([x]) => x);
        const b = POW_CASES.map(([, y]) => y);
        return mismatches(device, 'pow', [a, b], (dev) => T.pow(f32(a, dev), f32(b, dev)));
      },
    },
    {
      name: 'maximum/minimum propagate NaN from either side',
      mismatches: async () => {
        const a = MINMAX_CASES.map(([x]) => x);
        const b = MINMAX_CASES.map(([, y]) => y);
        return [
          ...(await mismatches(device, 'maximum', [a, b], (dev) => T.maximum(f32(a, dev), f32(b, dev)))),
          ...(await mismatches(device, 'minimum', [a, b], (dev) => T.minimum(f32(a, dev), f32(b, dev)))),
        ];
      },
    },
    {
      name: 'max/min reductions propagate NaN; argmax/argmin return the first NaN (along rows and along a strided axis)',
      mismatches: async () => {
        const flat = ROWS.flat();
        const shape = [ROWS.length, ROWS[0]!.length];
        const x = (dev: string) => T.tensor(flat, { dtype: 'f32', device: dev }).reshape(shape);
        const rows = ROWS.map((r) => `[${r.join(' ')}]`);
        const bad: string[] = [];
        for (const [name, op] of [['max', T.max], ['min', T.min]] as const) {
          bad.push(...(await mismatches(device, `${name} axis 1`, [rows], (dev) => op(x(dev), 1))));
          bad.push(...(await mismatches(device, `${name} axis 0 of the rows`, [], (dev) => op(x(dev), 0))));
          bad.push(...(await mismatches(device, `${name} of all`, [], (dev) => op(x(dev)))));
        }
        for (const [name, op] of [['argmax', T.argmax], ['argmin', T.argmin]] as const) {
          bad.push(...(await mismatches(device, `${name} axis 1`, [rows], (dev) => op(x(dev), 1))));
          bad.push(...(await mismatches(device, `${name} axis 0 of the rows`, [], (dev) => op(x(dev), 0))));
        }
        return bad;
      },
    },
    {
      name: 'softmax, logSoftmax, logsumexp and cross-entropy over masked (-Infinity), fully masked, infinite and NaN logits',
      mismatches: async () => {
        const shape = [LOGIT_ROWS.length, LOGIT_ROWS[0]!.length];
        const x = (dev: string) => T.tensor(LOGIT_ROWS.flat(), { dtype: 'f32', device: dev }).reshape(shape);
        const rows = LOGIT_ROWS.map((r) => `[${r.join(' ')}]`);
        const targets = (dev: string) => T.tensor(LOGIT_ROWS.map((_, i) => (i + 1) % shape[1]!), { dtype: 'i32', device: dev });
        return [
          ...(await mismatches(device, 'softmax', [rows], (dev) => T.softmax(x(dev), -1))),
          ...(await mismatches(device, 'logSoftmax', [rows], (dev) => T.logSoftmax(x(dev), -1))),
          ...(await mismatches(device, 'logsumexp', [rows], (dev) => T.logsumexp(x(dev), -1))),
          ...(await mismatches(device, 'crossEntropy (per row)', [rows], (dev) => T.crossEntropy(x(dev), targets(dev), { reduction: 'none' }))),
        ];
      },
    },
  ];
}
