// Named special values for the elementwise and reduction kernels, shared by the kernels packages:
// the random cross-backend properties draw finite values in [-4, 4] (positive bases for pow) and
// compare with an absolute tolerance, so they never reach NaN, infinities, negative bases, values
// near 0 or tanh's large arguments. Each case must equal the CPU backend: NaN where it gives NaN,
// infinities exactly, finite values within a relative error (no absolute slack, so 1e-8 against
// 3e-8 fails). Each package registers the checks as tests; a check returns its mismatch lines.
import * as T from '@tessera/tensor';
import { gradients } from './grad.js';

/** Relative error allowed for finite results (f32 kernels against the CPU's double, rounded once). */
const REL = 1e-5;

/**
 * Where `device`'s result differs from the CPU's, one line per element naming the inputs (element i
 * of the result names element i modulo each list's length, so a tiled input names its untiled case).
 * With `collapse`, equal lines are reported once with their count (a tiled case repeats each line).
 * `atol` adds an absolute slack for results that cancel (attention's, summed over keys in f32 on a backend);
 * `rel` is the relative error allowed (0 for integer results, which must be equal).
 */
async function mismatches(device: string, what: string, inputs: readonly (readonly (number | string)[])[], build: (dev: string) => T.Tensor, collapse = false, atol = 0, rel = REL): Promise<string[]> {
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
    if (Number.isFinite(a) && Math.abs(a - b) <= rel * Math.abs(a) + atol) return;
    const args = inputs.length > 0 ? inputs.map((xs) => xs[i % xs.length]).join(', ') : `element ${i}`;
    out.push(`${what}(${args}): cpu ${a}, ${device} ${b}`);
  });
  if (!collapse) return out;
  const counts = new Map<string, number>();
  for (const line of out) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, k]) => (k > 1 ? `${line} (${k} elements)` : line));
}


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
  ['log1p', T.log1p, [1e-8, -1e-8, 1e-5, -1e-5, 3e-3, 0.02, 0.05, -0.03, 0.1, -0.2, 0.45, -0.45, 0.6, -0.6, 2, 1e6, 3e38, 0, -1, -2, NaN, Infinity]],
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

/**
 * Values cast from f32 to each integer dtype and bool: NaN and ±Infinity (0 on the CPU, a typed array's
 * store; WGSL's i32()/u32() clamp them), the ends of i32, past them (wrapped modulo 2^32: 5e9 as i32 is
 * 705032704, -3e9 as u32 1294967296), truncation toward zero of both signs, u8's wrap at 256 and below 0.
 */
const CAST_VALUES = [NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 5e9, -3e9, 2.7, -2.7, 255.9, 256, -1];
/** The same through `full` (gpu.js holds integers only up to ±2^24 exactly, and refuses larger ones). */
const FULL_VALUES = [NaN, Infinity, -Infinity, 2.7, -2.7, 255.9, 256, -1];
const CAST_TARGETS = ['i32', 'u32', 'u8', 'bool'] as const;

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

/** add/sub/mul/div's [a, b] pairs: infinities against each other and 0, division by ±0, NaN, overflow, subnormals. */
const ARITHMETIC_CASES: [number, number][] = [
  [Infinity, -Infinity], [Infinity, Infinity], [0, Infinity], [-Infinity, 0], [1, 0], [-1, 0], [0, 0], [1, -0], [NaN, 1], [2, NaN],
  [3e38, 3e38], [-3e38, 3e38], [1e-45, 2], [1e-40, 1e-5], [1e-20, 1e-20], [1e-38, 0.5],
];

/** GELU gradients' [x, dy] pairs: large inputs of both signs, near 0, NaN and infinities in either. */
const GELU_GRAD_CASES: [number, number][] = [
  [-1e4, 1], [-100, 1], [-50, -2], [-10, 1], [1e-6, 1], [0.5, 0.5], [1, 1], [3, -2], [10, 1], [20, 1], [50, 1], [100, 1], [1e4, 1],
  [NaN, 1], [Infinity, 1], [-Infinity, 1], [1, NaN], [1, Infinity],
];

/**
 * Rows for layerNorm, rmsNorm and their gradients: NaN, infinities, a constant row, huge values whose
 * squares overflow f32, tiny ones whose squares underflow. Not a row like [1e30, -1e30, 0, 1]: its
 * mean cancels catastrophically, so it is rounding noise in any summation order (tiled to 64, the CPU's
 * in-order f64 sum gives 1/64 against the true 1/4, f32 SIMD lanes 0) and no kernel is wrong.
 */
const NORM_ROWS = [
  [1, NaN, 3, 2],
  [Infinity, 0, 1, 2],
  [-Infinity, 0, 1, 2],
  [5, 5, 5, 5],
  [1e30, -1e30, 1e30, -1e30],
  [1e-30, -1e-30, 2e-30, 0],
  [3e38, 3e38, -3e38, 1],
  [0, 0, 0, 0],
];

/** Rows for sum: NaN, infinities of both signs (NaN) and of one, overflow. */
const SUM_ROWS = [...ROWS, [Infinity, -Infinity, 1, 2], [3e38, 3e38, -3e38, 1], [1e-45, 1e-45, 0, -1e-45]];

/** AdamW's [param, grad, m, v]: NaN and infinite gradients, moments and parameters, zero and huge second moments, a subnormal gradient. */
const ADAMW_CASES: [number, number, number, number][] = [
  [1, NaN, 0, 0], [1, Infinity, 0, 0], [1, -Infinity, 0.1, 0.01], [NaN, 1, 0, 0], [Infinity, 1, 0, 0], [1, 1, NaN, 0], [1, 1, 0, Infinity],
  [1, 0, 0, 0], [1, 3e38, 0, 0], [1, 1e-45, 0, 0], [1, 1e20, 1e30, 3e38], [-2, -1e-3, -1e-3, 1e-12],
];

/** Attention's shape per head: queries = keys, head dim (at least 8 of each: kernels-cpu's gemm path). */
const ATT_T = 16;
const ATT_D = 8;
/**
 * Absolute slack for attention's results: outputs and gradients of 1e-3 or less are sums over the keys
 * that cancel, and an f32 backend's (kernels-cpu's gemm) differ from the CPU's double in the 1e-8s.
 */
const ATTENTION_ATOL = 1e-6;

/**
 * Attention cases: a non-finite element of q, k or v (at a key some queries see and causally earlier
 * ones do not), under no mask, a causal one, and an additive mask with -Infinity entries and a fully
 * masked query row (3). Each edits head 0 of deterministic values in [-1, 1].
 */
const ATTENTION_CASES: [string, 'q' | 'k' | 'v' | null, number, number][] = [
  ['finite', null, 0, 0],
  ['NaN in q (query 2)', 'q', 2 * ATT_D + 1, NaN],
  ['Infinity in k (key 3)', 'k', 3 * ATT_D + 3, Infinity],
  ['NaN in v (key 1)', 'v', 1 * ATT_D + 7, NaN],
  ['Infinity in v (key 1)', 'v', 1 * ATT_D + 2, Infinity],
  ['Infinity in v (key 5, masked for every query)', 'v', 5 * ATT_D + 1, Infinity],
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

/** Options for `specialValueChecks`; without them every case runs once, as written. */
export interface SpecialValueOptions {
  /**
   * Repeat every case until its tensor holds at least this many elements, for backends whose fast
   * paths start at a size (kernels-cpu's WebAssembly SIMD kernels, and their worker threads beyond
   * that). Tiled inputs are also cloned on the device (a copy op's result, as a layer's activations
   * are), so a backend that keeps large results in memory of its own (kernels-cpu's arena, which its
   * workers read in place) gets them there. Equal mismatch lines are then reported once, with a count.
   */
  readonly minElements?: number;
  /**
   * Lengthen every row of the row cases (max/min/argmax/argmin along rows, softmax, logSoftmax,
   * logsumexp, cross-entropy) to at least this many elements by repeating it: the first extreme, NaN
   * or target stays where it was, so each result still names the row as written (default: 4).
   */
  readonly minRow?: number;
  /**
   * Also check the fused kernels a backend may have beyond the primitives (default false; kernels-cpu
   * runs them on its SIMD module): add/sub/mul/div over infinities, zeros, NaN and subnormals, sum,
   * layerNorm and rmsNorm and their gradients over rows with NaN, infinities, constant and huge
   * values, GELU's gradient (both forms) at large inputs, and the softmax, logSoftmax and cross-entropy
   * gradients over the special logits, an AdamW step over NaN and infinite gradients and moments, and
   * attention with its gradients over non-finite q, k and v under masks.
   */
  readonly fusedKernels?: boolean;
}

/** `xs` repeated until it holds at least `n` elements (whole copies; `xs` itself when n <= its length). */
function tile<V>(xs: readonly V[], n: number): V[] {
  const copies = Math.max(1, Math.ceil(n / xs.length));
  return Array.from({ length: copies * xs.length }, (_, i) => xs[i % xs.length]!);
}

/**
 * A row case laid out for the checks: each row repeated along itself to at least `minRow` elements,
 * then the rows repeated until the set holds at least `minElements`; the names of the rows as written,
 * one per result row (i modulo their count) and one per element (row and column as written).
 */
interface RowSet {
  readonly flat: number[];
  readonly shape: [number, number];
  /** Rows as written. */
  readonly count: number;
  readonly rowNames: string[];
  readonly elementNames: string[];
}

function rowSet(rows: readonly (readonly number[])[], opts: SpecialValueOptions): RowSet {
  const width = rows[0]!.length;
  const cols = Math.ceil(Math.max(width, opts.minRow ?? width) / width) * width;
  const once = rows.map((r) => tile(r, cols));
  const all = tile(once, Math.ceil((opts.minElements ?? 0) / cols));
  const rowNames = rows.map((r) => `[${r.join(' ')}]`);
  const elementNames = rowNames.flatMap((name) => Array.from({ length: cols }, (_, j) => (cols === width ? name : `${name} element ${j % width}`)));
  return { flat: all.flat(), shape: [all.length, cols], count: rows.length, rowNames, elementNames };
}

/**
 * The special-value checks for the backend named `device`. `opts` tiles every case to a size
 * (SpecialValueOptions); each mismatch line still names the input as written.
 */
export function specialValueChecks(device: string, opts: SpecialValueOptions = {}): SpecialValueCheck[] {
  const tiled = (opts.minElements ?? 0) > 0 || (opts.minRow ?? 0) > 0;
  const grow = <V>(xs: readonly V[]): V[] => (tiled ? tile(xs, opts.minElements ?? 0) : [...xs]);
  /** The f32 tensor of `xs` on `dev` (cloned there when tiled: see SpecialValueOptions.minElements). */
  const f32 = (xs: readonly number[], dev: string): T.Tensor => {
    const x = T.tensor([...xs], { dtype: 'f32', device: dev });
    return tiled ? T.clone(x) : x;
  };
  const rowsOn = (set: RowSet, dev: string): T.Tensor => f32(set.flat, dev).reshape(set.shape);
  const compare: Compare = (what, inputs, build, atol, rel) => mismatches(device, what, inputs, build, tiled, atol, rel);
  const size = tiled ? ` (tiled: at least ${opts.minElements ?? 0} elements${opts.minRow ? `, rows of at least ${opts.minRow}` : ''})` : '';
  return [
    {
      name: `unary special values: NaN through sign/relu/clamp, log1p/softplus/tanh/erf near 0 (relative error) and at large |x|, gelu at large inputs${size}`,
      mismatches: async () => {
        const bad: string[] = [];
        for (const [name, op, xs] of UNARY_CASES) {
          const all = grow(xs);
          bad.push(...(await compare(name, [xs], (dev) => op(f32(all, dev)))));
        }
        return bad;
      },
    },
    {
      name: `pow special values: negative and zero bases, integer, fractional and infinite exponents, NaN (C pow rules, as on the CPU)${size}`,
      mismatches: () => {
        const a = POW_CASES.map(([x]) => x);
        const b = POW_CASES.map(([, y]) => y);
        const [ta, tb] = [grow(a), grow(b)];
        return compare('pow', [a, b], (dev) => T.pow(f32(ta, dev), f32(tb, dev)));
      },
    },
    {
      name: `cast and full from f32 to i32/u32/u8/bool: NaN and ±Infinity give 0 (true for bool), out-of-range values wrap, fractions truncate toward zero${size}`,
      mismatches: async () => {
        const bad: string[] = [];
        const all = grow(CAST_VALUES);
        // One full per value, of the tiled size over all of them, concatenated: element i names its value.
        const n = Math.max(1, Math.ceil((opts.minElements ?? 0) / FULL_VALUES.length));
        const fullNames = FULL_VALUES.flatMap((v) => Array.from({ length: n }, () => v));
        for (const dtype of CAST_TARGETS) {
          bad.push(...(await compare(`cast to ${dtype}`, [CAST_VALUES], (dev) => T.cast(f32(all, dev), dtype), 0, 0)));
          bad.push(...(await compare(`full ${dtype}`, [fullNames], (dev) => T.concat(FULL_VALUES.map((v) => T.full([n], v, { dtype, device: dev })), 0), 0, 0)));
        }
        return bad;
      },
    },
    {
      name: `maximum/minimum propagate NaN from either side${size}`,
      mismatches: async () => {
        const a = MINMAX_CASES.map(([x]) => x);
        const b = MINMAX_CASES.map(([, y]) => y);
        const [ta, tb] = [grow(a), grow(b)];
        return [
          ...(await compare('maximum', [a, b], (dev) => T.maximum(f32(ta, dev), f32(tb, dev)))),
          ...(await compare('minimum', [a, b], (dev) => T.minimum(f32(ta, dev), f32(tb, dev)))),
        ];
      },
    },
    {
      name: `max/min reductions propagate NaN; argmax/argmin return the first NaN (along rows and along a strided axis)${size}`,
      mismatches: async () => {
        const set = rowSet(ROWS, opts);
        const x = (dev: string) => rowsOn(set, dev);
        const rows = set.rowNames;
        const bad: string[] = [];
        for (const [name, op] of [['max', T.max], ['min', T.min]] as const) {
          bad.push(...(await compare(`${name} axis 1`, [rows], (dev) => op(x(dev), 1))));
          bad.push(...(await compare(`${name} axis 0 of the rows`, [], (dev) => op(x(dev), 0))));
          bad.push(...(await compare(`${name} of all`, [], (dev) => op(x(dev)))));
        }
        for (const [name, op] of [['argmax', T.argmax], ['argmin', T.argmin]] as const) {
          bad.push(...(await compare(`${name} axis 1`, [rows], (dev) => op(x(dev), 1))));
          bad.push(...(await compare(`${name} axis 0 of the rows`, [], (dev) => op(x(dev), 0))));
        }
        return bad;
      },
    },
    {
      name: `softmax, logSoftmax, logsumexp and cross-entropy over masked (-Infinity), fully masked, infinite and NaN logits${size}`,
      mismatches: async () => {
        const set = rowSet(LOGIT_ROWS, opts);
        const x = (dev: string) => rowsOn(set, dev);
        const width = LOGIT_ROWS[0]!.length;
        // Row i's target as written (a tiled row holds it at the same column).
        const targets = (dev: string) => T.tensor(Array.from({ length: set.shape[0] }, (_, i) => ((i % set.count) + 1) % width), { dtype: 'i32', device: dev });
        return [
          ...(await compare('softmax', [set.elementNames], (dev) => T.softmax(x(dev), -1))),
          ...(await compare('logSoftmax', [set.elementNames], (dev) => T.logSoftmax(x(dev), -1))),
          ...(await compare('logsumexp', [set.rowNames], (dev) => T.logsumexp(x(dev), -1))),
          ...(await compare('crossEntropy (per row)', [set.rowNames], (dev) => T.crossEntropy(x(dev), targets(dev), { reduction: 'none' }))),
        ];
      },
    },
    ...(opts.fusedKernels ? [fusedKernelCheck(device, opts, f32, compare, grow, size)] : []),
  ];
}

type Compare = (what: string, inputs: readonly (readonly (number | string)[])[], build: (dev: string) => T.Tensor, atol?: number, rel?: number) => Promise<string[]>;

/** The check of SpecialValueOptions.fusedKernels, with the tiling and comparison of specialValueChecks. */
function fusedKernelCheck(device: string, opts: SpecialValueOptions, f32: (xs: readonly number[], dev: string) => T.Tensor, compare: Compare, grow: <V>(xs: readonly V[]) => V[], size: string): SpecialValueCheck {
  const rowsOn = (set: RowSet, dev: string): T.Tensor => f32(set.flat, dev).reshape(set.shape);
  /** A row of `set`'s width, repeated over its rows (a gradient's dy), or one row (a norm's weight). */
  const along = (set: RowSet, row: readonly number[], dev: string, everyRow: boolean): T.Tensor => {
    const one = tile(row, set.shape[1]);
    return everyRow ? f32(tile(one, set.shape[0] * set.shape[1]), dev).reshape(set.shape) : f32(one, dev);
  };
  const DY = [1, -2, 0.5, 3];
  const W = [1, 2, -1, 0.5];
  return {
    name: `fused kernels over special values: add/sub/mul/div, sum, layerNorm and rmsNorm with their gradients, GELU's gradient, softmax/logSoftmax/cross-entropy gradients, an AdamW step, attention and its gradients over non-finite q/k/v under masks${size}`,
    mismatches: async () => {
      const bad: string[] = [];
      const a = ARITHMETIC_CASES.map(([x]) => x);
      const b = ARITHMETIC_CASES.map(([, y]) => y);
      const [ta, tb] = [grow(a), grow(b)];
      for (const [name, op] of [['add', T.add], ['sub', T.sub], ['mul', T.mul], ['div', T.div]] as const) {
        bad.push(...(await compare(name, [a, b], (dev) => op(f32(ta, dev), f32(tb, dev)))));
      }
      const sums = rowSet(SUM_ROWS, opts);
      bad.push(...(await compare('sum axis 1', [sums.rowNames], (dev) => T.sum(rowsOn(sums, dev), 1))));
      bad.push(...(await compare('sum axis 0 of the rows', [], (dev) => T.sum(rowsOn(sums, dev), 0))));
      bad.push(...(await compare('sum of all', [], (dev) => T.sum(rowsOn(sums, dev)))));

      const norms = rowSet(NORM_ROWS, opts);
      const x = (dev: string) => rowsOn(norms, dev);
      const names = [norms.elementNames];
      for (const weighted of [false, true]) {
        const w = (dev: string) => (weighted ? [along(norms, W, dev, false)] : []);
        const tag = weighted ? ` weight [${W.join(' ')}]` : '';
        const attrs = (eps: number) => ({ eps, hasWeight: weighted });
        bad.push(...(await compare(`layerNorm${tag}`, names, (dev) => T.layerNorm(x(dev), ...w(dev)))));
        bad.push(...(await compare(`rmsNorm${tag}`, names, (dev) => T.rmsNorm(x(dev), ...w(dev)))));
        bad.push(...(await compare(`layerNormBackward${tag}, dy [${DY.join(' ')}]`, names, (dev) => T.apply(T.OPS.layerNormBackward, [x(dev), along(norms, DY, dev, true), ...w(dev)], attrs(1e-5)))));
        bad.push(...(await compare(`rmsNormBackward${tag}, dy [${DY.join(' ')}]`, names, (dev) => T.apply(T.OPS.rmsNormBackward, [x(dev), along(norms, DY, dev, true), ...w(dev)], attrs(1e-6)))));
      }

      const gx = GELU_GRAD_CASES.map(([v]) => v);
      const gdy = GELU_GRAD_CASES.map(([, v]) => v);
      const [tgx, tgdy] = [grow(gx), grow(gdy)];
      for (const approximate of ['none', 'tanh'] as const) {
        bad.push(...(await compare(`geluBackward(${approximate}) [x, dy]`, [gx, gdy], (dev) => T.apply(T.OPS.geluBackward, [f32(tgx, dev), f32(tgdy, dev)], { approximate }))));
      }

      const logits = rowSet(LOGIT_ROWS, opts);
      const lx = (dev: string) => rowsOn(logits, dev);
      const dy = (dev: string) => along(logits, DY, dev, true);
      const width = LOGIT_ROWS[0]!.length;
      const rowsOf = logits.shape[0];
      const targets = (dev: string) => T.tensor(Array.from({ length: rowsOf }, (_, i) => ((i % logits.count) + 1) % width), { dtype: 'i32', device: dev });
      const g = (dev: string) => f32(Array.from({ length: rowsOf }, (_, i) => [1, 0.5, -1][i % logits.count % 3]!), dev);
      const lnames = [logits.elementNames];
      bad.push(...(await compare(`softmaxBackward, dy [${DY.join(' ')}]`, lnames, (dev) => T.apply(T.OPS.softmaxBackward, [lx(dev), dy(dev)], { axis: 1 }))));
      bad.push(...(await compare(`logSoftmaxBackward, dy [${DY.join(' ')}]`, lnames, (dev) => T.apply(T.OPS.logSoftmaxBackward, [lx(dev), dy(dev)], { axis: 1 }))));
      for (const labelSmoothing of [0, 0.1]) {
        bad.push(...(await compare(`crossEntropyBackward (smoothing ${labelSmoothing})`, lnames, (dev) => T.apply(T.OPS.crossEntropyBackward, [lx(dev), targets(dev), g(dev)], { ignoreIndex: -100, labelSmoothing }))));
      }
      // One AdamW step (a backend's fused update where it has one) over the special values: new param, m and v.
      const [p, gr, m, v] = [0, 1, 2, 3].map((c) => ADAMW_CASES.map((r) => r[c]!));
      const [tp, tg, tm, tv] = [p, gr, m, v].map((xs) => grow(xs!));
      const hyper = { lr: 1e-3, weightDecay: 0.01, step: 3 };
      for (const [r, what] of ['param', 'm', 'v'].entries()) {
        bad.push(...(await compare(`adamwStep ${what} [param, grad, m, v]`, [p!, gr!, m!, v!], (dev) => {
          const out = T.adamwStep(f32(tp!, dev), f32(tg!, dev), f32(tm!, dev), f32(tv!, dev), hyper);
          return [out.param, out.m, out.v][r]!;
        })));
      }
      bad.push(...(await attentionMismatches(opts, f32, compare)));
      return bad;
    },
  };
}

/** Deterministic values in [-1, 1] (a linear congruential sequence from `seed`). */
function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

/**
 * scaledDotProductAttention's output and its q, k, v gradients over ATTENTION_CASES, under each mask;
 * the heads are repeated until the scores hold at least opts.minElements (the special value in every
 * other head).
 */
async function attentionMismatches(opts: SpecialValueOptions, f32: (xs: readonly number[], dev: string) => T.Tensor, compare: Compare): Promise<string[]> {
  const perHead = ATT_T * ATT_D;
  // Heads in pairs until the scores (heads x queries x keys) hold at least minElements.
  const heads = Math.max(2, 2 * Math.ceil((opts.minElements ?? 0) / (2 * ATT_T * ATT_T)));
  const shape = [1, heads, ATT_T, ATT_D];
  // Key 5 masked for every query; query 3 fully masked; every fifth (query, key) pair masked.
  const masked = (i: number, j: number) => j === 5 || i === 3 || (i * ATT_T + j) % 5 === 0;
  const additive = Array.from({ length: ATT_T * ATT_T }, (_, e) => (masked(Math.floor(e / ATT_T), e % ATT_T) ? -Infinity : 0));
  const masks: [string, ((dev: string) => T.Tensor) | null, boolean][] = [
    ['no mask', null, false],
    ['causal', null, true],
    ['additive mask', (dev) => f32(additive, dev).reshape([1, 1, ATT_T, ATT_T]), false],
  ];
  const base = { q: values(2 * perHead, 1), k: values(2 * perHead, 2), v: values(2 * perHead, 3) };
  const dy = tile(values(2 * perHead, 4), heads * perHead);
  // The output and the three gradients, concatenated: an element's name says which, and where (the head as written).
  const names = ['output', 'dq', 'dk', 'dv'].flatMap((part) => Array.from({ length: heads * perHead }, (_, e) => `${part} head ${Math.floor(e / perHead) % 2} query ${Math.floor(e / ATT_D) % ATT_T} dim ${e % ATT_D}`));
  const bad: string[] = [];
  for (const [name, which, at, value] of ATTENTION_CASES) {
    const data = { q: [...base.q], k: [...base.k], v: [...base.v] };
    if (which) data[which][at] = value;
    const [q, k, v] = [tile(data.q, heads * perHead), tile(data.k, heads * perHead), tile(data.v, heads * perHead)];
    for (const [maskName, mask, causal] of masks) {
      const results = (dev: string): T.Tensor[] => {
        const [tq, tk, tv] = [q, k, v].map((xs) => f32(xs, dev).reshape(shape).requiresGrad_());
        const y = T.withGradMode(true, () => T.scaledDotProductAttention(tq!, tk!, tv!, mask?.(dev), { causal }));
        return [y.detach(), ...gradients(y, [tq!, tk!, tv!], { gradient: f32(dy, dev).reshape(shape) })];
      };
      const all = (dev: string) => T.concat(results(dev).map((t) => t.reshape([heads * perHead])), 0);
      bad.push(...(await compare(`attention (${name}, ${maskName})`, [names], all, ATTENTION_ATOL)));
    }
  }
  return bad;
}
