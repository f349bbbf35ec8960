// Every differentiable op's gradient rule, checked against central finite differences in f64 on
// random shapes and values. The coverage test at the bottom fails when an op is added to the
// registry without a line here.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Generator,
  OPS,
  apply,
  applyRotary,
  cast,
  clamp,
  concat,
  crossEntropy,
  dropout,
  expand,
  gather,
  gelu,
  indexSelect,
  layerNorm,
  listOps,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  permute,
  registerBackend,
  reshape,
  rmsNorm,
  scaledDotProductAttention,
  scatterAdd,
  silu,
  slice,
  softmax,
  square,
  squeeze,
  sum,
  tensor,
  tidy,
  transpose,
  tril,
  triu,
  unsqueeze,
  variance,
  view,
  where,
  type OpDef,
  type Tensor,
} from '@tessera/tensor';
import * as t from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { checkpoint, checkpointOp } from '../src/index.js';
import { attentionShapeArb, axesArb, broadcastPairArb, gradcheck, numRuns, shapeArb, tensorDataArb, toTensor, valuesArb, type TensorData, type ValueOptions } from '../src/testing.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

/** One line of the spec table: inputs to draw and the function whose gradient is checked. */
interface GradSpec<T> {
  op: OpDef;
  arb: fc.Arbitrary<T>;
  /** Builds the differentiated inputs and the function of them. */
  build: (sample: T) => { inputs: Tensor[]; fn: (...xs: Tensor[]) => Tensor };
  tol?: { atol?: number; rtol?: number; eps?: number };
}

function spec<T>(s: GradSpec<T>): GradSpec<unknown> {
  return s as GradSpec<unknown>;
}

const small = shapeArb({ maxRank: 3, maxDim: 4 });
const nonScalar = shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 });
const matrixish = shapeArb({ minRank: 2, maxRank: 3, maxDim: 4 });
const data = (opts: ValueOptions = {}, shapes = small): fc.Arbitrary<TensorData> => tensorDataArb(shapes, opts);
/** Values made distinct (spacing > finite-difference step) so max/min have no ties. */
const distinct = (d: TensorData): TensorData => ({ ...d, values: d.values.map((v, i) => v + i * 0.0137) });

function unary(op: OpDef, f: (x: Tensor) => Tensor, opts: ValueOptions = {}): GradSpec<unknown> {
  return spec({ op, arb: data(opts), build: (d) => ({ inputs: [toTensor(d)], fn: f }) });
}

function binary(op: OpDef, f: (a: Tensor, b: Tensor) => Tensor, optsA: ValueOptions = {}, optsB: ValueOptions = {}): GradSpec<unknown> {
  return spec({
    op,
    arb: broadcastPairArb({ maxRank: 3, maxDim: 3 }).chain(([sa, sb]) =>
      fc.tuple(valuesArb(sa, optsA), valuesArb(sb, optsB)).map(([va, vb]) => [{ shape: sa, values: va }, { shape: sb, values: vb }] as const),
    ),
    build: ([a, b]) => ({ inputs: [toTensor(a), toTensor(b)], fn: f }),
  });
}

/** Values on a grid offset by `shift` so the two operands of maximum/minimum never tie. */
const grid = (shift: number): ValueOptions & { shift: number } => ({ min: -3, max: 3, shift });
function tieFree(op: OpDef, f: (a: Tensor, b: Tensor) => Tensor): GradSpec<unknown> {
  return spec({
    op,
    arb: broadcastPairArb({ maxRank: 3, maxDim: 3 }).chain(([sa, sb]) =>
      fc.tuple(valuesArb(sa, grid(0)), valuesArb(sb, grid(0))).map(([va, vb]) => [
        { shape: sa, values: va.map((v) => Math.round(v) + 0.25) },
        { shape: sb, values: vb.map((v) => Math.round(v) - 0.25) },
      ] as const),
    ),
    build: ([a, b]) => ({ inputs: [toTensor(a), toTensor(b)], fn: f }),
  });
}

function reduction(op: OpDef, f: (x: Tensor, axes: number[], keep: boolean) => Tensor, opts: ValueOptions = {}, makeDistinct = false): GradSpec<unknown> {
  return spec({
    op,
    arb: data(opts, nonScalar).chain((d) => fc.tuple(fc.constant(d), axesArb(d.shape.length), fc.boolean())),
    build: ([d, axes, keep]) => ({ inputs: [toTensor(makeDistinct ? distinct(d) : d)], fn: (x) => f(x, axes, keep) }),
  });
}

const permutationArb = (rank: number): fc.Arbitrary<number[]> =>
  fc.shuffledSubarray(Array.from({ length: rank }, (_, i) => i), { minLength: rank, maxLength: rank });

/** A random attention problem: GQA heads, causal (S >= T so no query row is fully masked), a mask kind, dropout. */
const attentionProblemArb = fc
  .tuple(attentionShapeArb(), fc.constantFrom(0, 0, 0.3))
  .chain(([r, dropoutP]) =>
    fc
      .tuple(valuesArb([r.b, r.h, r.t, r.d]), valuesArb([r.b, r.hkv, r.s, r.d]), valuesArb([r.b, r.hkv, r.s, r.d]), fc.array(fc.boolean(), { minLength: r.b * r.s, maxLength: r.b * r.s }), valuesArb([r.t, r.s]))
      .map(([q, k, v, keep, bias]) => ({ r: { ...r, dropoutP }, s: r.s, h: r.h, q: { shape: [r.b, r.h, r.t, r.d], values: q }, k: { shape: [r.b, r.hkv, r.s, r.d], values: k }, v: { shape: [r.b, r.hkv, r.s, r.d], values: v }, keep, bias })),
  );
type AttentionProblem = typeof attentionProblemArb extends fc.Arbitrary<infer P> ? P : never;

/** The problem's inputs (q, k, v and a float mask are differentiated) and attributes. */
function attentionInputs({ r, s, q, k, v, keep, bias }: AttentionProblem): { inputs: Tensor[]; mask: Tensor | undefined; attrs: t.AttentionAttrs; opts: t.AttentionOptions } {
  // A bool padding mask over keys keeps key 0 (visible to every query, causal or not) so no row is fully masked.
  const mask =
    r.mask === 'bool' ? tensor(keep.map((x, i) => x || i % s === 0), { shape: [r.b, 1, 1, s], dtype: 'bool' }) : r.mask === 'float' ? tensor(bias, { shape: [1, 1, r.t, s], dtype: 'f64' }) : undefined;
  const opts = { causal: r.causal, dropoutP: r.dropoutP, generator: new Generator(7) };
  const attrs: t.AttentionAttrs = { causal: r.causal, scale: 1 / Math.sqrt(r.d), hasMask: !!mask, dropoutP: r.dropoutP, dropoutStream: r.dropoutP > 0 ? { seed: 7, counter: 3 } : undefined };
  const inputs = [toTensor(q), toTensor(k), toTensor(v), ...(mask?.dtype === 'f64' ? [mask] : [])];
  return { inputs, mask, attrs, opts };
}

/** attention's vjp (direct: recomputing lse), attentionForward's (packed: output and lse) and scaledDotProductAttention's path (sdpa). */
function attentionSpec(op: OpDef, how: 'direct' | 'packed' | 'sdpa'): GradSpec<unknown> {
  return spec({
    op,
    arb: attentionProblemArb,
    build: (problem) => {
      const { inputs, mask, attrs, opts } = attentionInputs(problem);
      const withMask = (xs: Tensor[]): Tensor[] => (mask ? [xs[0]!, xs[1]!, xs[2]!, xs[3] ?? mask] : xs.slice(0, 3));
      // A fresh generator per call: the analytic and both finite-difference evaluations draw the same mask.
      const fn =
        how === 'sdpa'
          ? (...xs: Tensor[]) => scaledDotProductAttention(xs[0]!, xs[1]!, xs[2]!, mask ? (xs[3] ?? mask) : undefined, { ...opts, generator: new Generator(7) })
          : (...xs: Tensor[]) => apply(op, withMask(xs), attrs);
      return { inputs, fn };
    },
    tol: { atol: 1e-5, rtol: 1e-4 },
  });
}

/** The gradient ops themselves (differentiated through their decompositions, for higher-order gradients). */
function attentionGradSpec(op: OpDef): GradSpec<unknown> {
  return spec({
    op,
    arb: attentionProblemArb.chain((p) => fc.tuple(fc.constant(p), valuesArb([p.r.b, p.h, p.r.t, p.r.d]), valuesArb([p.r.b, p.h, p.r.t], { min: 1, max: 4 }), valuesArb([p.r.b, p.h, p.r.t]))),
    build: ([problem, dO, lse, delta]) => {
      const { inputs, mask, attrs } = attentionInputs(problem);
      const [b, h, tl, d] = [problem.r.b, problem.h, problem.r.t, problem.r.d];
      const extra = [tensor(dO, { shape: [b, h, tl, d], dtype: 'f64' }), tensor(lse, { shape: [b, h, tl], dtype: 'f64' }), tensor(delta, { shape: [b, h, tl], dtype: 'f64' })];
      const all = [...inputs.slice(0, 3), ...extra, ...inputs.slice(3)];
      const fn = (...xs: Tensor[]) => apply(op, [...xs.slice(0, 6), ...(mask ? [xs[6] ?? mask] : [])], attrs);
      return { inputs: all, fn };
    },
    tol: { atol: 1e-5, rtol: 1e-4 },
  });
}

const SPECS: GradSpec<unknown>[] = [
  unary(OPS.neg, t.neg),
  unary(OPS.abs, t.abs, { avoid: [0], margin: 0.05 }),
  unary(OPS.exp, t.exp),
  unary(OPS.log, t.log, { min: 0.2, max: 4 }),
  unary(OPS.log1p, t.log1p, { min: -0.7, max: 4 }),
  unary(OPS.sqrt, t.sqrt, { min: 0.2, max: 4 }),
  unary(OPS.rsqrt, t.rsqrt, { min: 0.2, max: 4 }),
  unary(OPS.sin, t.sin),
  unary(OPS.cos, t.cos),
  unary(OPS.tanh, t.tanh),
  unary(OPS.sigmoid, t.sigmoid),
  unary(OPS.relu, t.relu, { avoid: [0], margin: 0.05 }),
  unary(OPS.erf, t.erf),
  unary(OPS.softplus, t.softplus, { min: -30, max: 30 }),
  unary(OPS.clamp, (x) => clamp(x, -1, 1.5), { avoid: [-1, 1.5], margin: 0.05 }),
  unary(OPS.square, square),
  unary(OPS.gelu, (x) => gelu(x)),
  spec({ op: OPS.gelu, arb: data(), build: (d) => ({ inputs: [toTensor(d)], fn: (x) => gelu(x, { approximate: 'tanh' }) }) }),
  unary(OPS.silu, silu),
  binary(OPS.add, t.add),
  binary(OPS.sub, t.sub),
  binary(OPS.mul, t.mul),
  binary(OPS.div, t.div, {}, { avoid: [0], margin: 0.5 }),
  binary(OPS.pow, t.pow, { min: 0.3, max: 2.5 }, { min: -2, max: 2 }),
  tieFree(OPS.maximum, maximum),
  tieFree(OPS.minimum, minimum),
  spec({
    op: OPS.where,
    arb: broadcastPairArb({ maxRank: 3, maxDim: 3 }).chain(([sa, sb]) =>
      fc.tuple(valuesArb(sa), valuesArb(sb), fc.array(fc.boolean(), { minLength: 1, maxLength: 1 })).map(([va, vb, [flip]]) => ({
        a: { shape: sa, values: va },
        b: { shape: sb, values: vb },
        flip: !!flip,
      })),
    ),
    build: ({ a, b, flip }) => {
      const ta = toTensor(a);
      const tb = toTensor(b);
      const cond = t.gt(t.add(ta, tb), flip ? 0.3 : -0.3); // a broadcast bool condition, held fixed
      return { inputs: [ta, tb], fn: (x, y) => where(cond, x, y) };
    },
  }),
  reduction(OPS.sum, (x, axes, keep) => sum(x, axes, keep)),
  reduction(OPS.max, (x, axes, keep) => max(x, axes, keep), {}, true),
  reduction(OPS.min, (x, axes, keep) => min(x, axes, keep), {}, true),
  reduction(OPS.mean, (x, axes, keep) => mean(x, axes, keep)),
  reduction(OPS.logsumexp, (x, axes, keep) => logsumexp(x, axes, keep), { min: -20, max: 20 }),
  spec({
    op: OPS.variance,
    arb: data({}, shapeArb({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 4 })).chain((d) =>
      fc.tuple(fc.constant(d), axesArb(d.shape.length), fc.boolean(), fc.constantFrom(0, 1)),
    ),
    build: ([d, axes, keep, correction]) => ({ inputs: [toTensor(d)], fn: (x) => variance(x, axes, keep, correction) }),
  }),
  // Batch dims that broadcast either way: a 2-D or all-ones-batch operand shared by the batch on
  // either side (its gradient is one product folded over the batch), size-1 dims meeting (batched,
  // then summed), each operand a plain or transposed view.
  spec({
    op: OPS.matmul,
    arb: fc
      .record({
        batches: broadcastPairArb({ maxRank: 2, maxDim: 3 }),
        m: fc.integer({ min: 1, max: 4 }),
        k: fc.integer({ min: 1, max: 4 }),
        n: fc.integer({ min: 1, max: 4 }),
        transA: fc.boolean(),
        transB: fc.boolean(),
      })
      .chain((r) => {
        const [batchA, batchB] = r.batches;
        const sa = r.transA ? [...batchA, r.k, r.m] : [...batchA, r.m, r.k];
        const sb = r.transB ? [...batchB, r.n, r.k] : [...batchB, r.k, r.n];
        return fc.tuple(valuesArb(sa), valuesArb(sb)).map(([va, vb]) => ({ r, a: { shape: sa, values: va }, b: { shape: sb, values: vb } }));
      }),
    build: ({ r, a, b }) => ({
      inputs: [toTensor(a), toTensor(b)],
      fn: (x, y) => matmul(r.transA ? transpose(x) : x, r.transB ? transpose(y) : y),
    }),
  }),
  spec({
    op: OPS.matmul,
    arb: fc.tuple(data({}, shapeArb({ minRank: 1, maxRank: 1 })), fc.integer({ min: 1, max: 3 })).chain(([v, n]) =>
      valuesArb([v.shape[0]!, n]).map((vals) => ({ v, m: { shape: [v.shape[0]!, n], values: vals } })),
    ),
    build: ({ v, m }) => ({ inputs: [toTensor(v), toTensor(m)], fn: matmul }), // vector @ matrix
  }),
  spec({
    op: OPS.view,
    arb: data({}, nonScalar),
    build: (d) => ({ inputs: [toTensor(d)], fn: (x) => t.mul(view(x, [-1]), t.arange(0, x.size, 1, { dtype: 'f64' })) }),
  }),
  spec({
    op: OPS.view,
    arb: data({}, matrixish),
    build: (d) => ({ inputs: [toTensor(d)], fn: (x) => t.exp(reshape(transpose(x), [-1])) }), // reshape of a non-contiguous view copies
  }),
  spec({
    op: OPS.permute,
    arb: data({}, nonScalar).chain((d) => fc.tuple(fc.constant(d), permutationArb(d.shape.length))),
    build: ([d, perm]) => ({ inputs: [toTensor(d)], fn: (x) => t.sin(permute(x, perm)) }),
  }),
  spec({
    op: OPS.slice,
    arb: data({}, nonScalar).chain((d) =>
      fc.tuple(fc.constant(d), fc.nat({ max: d.shape.length - 1 }), fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 6 }), fc.integer({ min: 1, max: 3 })),
    ),
    build: ([d, axis, start, end, step]) => ({ inputs: [toTensor(d)], fn: (x) => t.square(slice(x, axis, start, end, step)) }),
  }),
  spec({
    // Several blocks of one input: split chunks (some unused) whose gradients the engine joins with one
    // concat, and optionally a narrow overlapping them or a block along another axis (padded and summed).
    op: OPS.slice,
    arb: data({}, nonScalar).chain((d) =>
      fc.tuple(fc.constant(d), fc.nat({ max: d.shape.length - 1 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.constantFrom('none', 'overlap', 'other-axis')),
    ),
    build: ([d, axis, chunk, used, extra]) => ({
      inputs: [toTensor(d)],
      fn: (x) => {
        const terms = t.split(x, chunk, axis).flatMap((part, i) => (i === 0 || used[i % 4] ? [t.sum(t.mul(t.square(part), i + 1))] : []));
        if (extra === 'overlap') terms.push(t.sum(t.sin(t.narrow(x, axis, 0, Math.min(x.shape[axis]!, chunk + 1)))));
        if (extra === 'other-axis') terms.push(t.sum(t.exp(t.narrow(x, (axis + 1) % x.rank, 0, 1))));
        return terms.reduce((a, b) => t.add(a, b));
      },
    }),
  }),
  spec({
    op: OPS.expand,
    arb: broadcastPairArb({ maxRank: 3, maxDim: 3 }).chain(([sa, sb]) =>
      valuesArb(sa).map((va) => ({ d: { shape: sa, values: va }, target: t.broadcastShapes(sa, sb) })),
    ),
    build: ({ d, target }) => ({ inputs: [toTensor(d)], fn: (x) => t.mul(expand(x, target), t.arange(0, target.reduce((p, q) => p * q, 1), 1, { dtype: 'f64' }).reshape(target)) }),
  }),
  spec({
    op: OPS.squeeze,
    arb: data({}, shapeArb({ maxRank: 4, maxDim: 2 })),
    build: (d) => ({ inputs: [toTensor(d)], fn: (x) => t.exp(squeeze(x)) }),
  }),
  spec({
    op: OPS.unsqueeze,
    arb: data().chain((d) => fc.tuple(fc.constant(d), fc.integer({ min: -(d.shape.length + 1), max: d.shape.length }))),
    build: ([d, axis]) => ({ inputs: [toTensor(d)], fn: (x) => t.exp(unsqueeze(x, axis)) }),
  }),
  spec({
    op: OPS.copy,
    arb: data({}, matrixish),
    build: (d) => ({ inputs: [toTensor(d)], fn: (x) => t.square(transpose(x).clone()) }),
  }),
  spec({
    op: OPS.cast,
    arb: data(),
    build: (d) => ({ inputs: [toTensor(d)], fn: (x) => cast(t.exp(cast(x, 'f32')), 'f64') }),
    tol: { atol: 1e-2, rtol: 1e-2, eps: 1e-3 }, // through f32: a larger step keeps f32 rounding out of the difference
  }),
  spec({
    op: OPS.gather,
    arb: data({}, nonScalar).chain((d) =>
      fc.nat({ max: d.shape.length - 1 }).chain((axis) => {
        const idxShape = d.shape.map((s, i) => (i === axis ? s + 1 : s));
        const n = idxShape.reduce((a, b) => a * b, 1);
        return fc.array(fc.nat({ max: d.shape[axis]! - 1 }), { minLength: n, maxLength: n }).map((idx) => ({ d, axis, idx, idxShape }));
      }),
    ),
    build: ({ d, axis, idx, idxShape }) => {
      const index = tensor(idx, { shape: idxShape, dtype: 'i32' });
      return { inputs: [toTensor(d)], fn: (x) => t.square(gather(x, axis, index)) };
    },
  }),
  spec({
    op: OPS.scatterAdd,
    arb: data({}, nonScalar).chain((d) =>
      fc.nat({ max: d.shape.length - 1 }).chain((axis) => {
        const n = d.shape.reduce((a, b) => a * b, 1);
        return fc
          .tuple(fc.array(fc.nat({ max: d.shape[axis]! - 1 }), { minLength: n, maxLength: n }), valuesArb(d.shape))
          .map(([idx, src]) => ({ d, axis, idx, src: { shape: d.shape, values: src } }));
      }),
    ),
    build: ({ d, axis, idx, src }) => {
      const index = tensor(idx, { shape: d.shape, dtype: 'i32' });
      return { inputs: [toTensor(d), toTensor(src)], fn: (x, s) => t.square(scatterAdd(x, axis, index, s)) };
    },
  }),
  spec({
    op: OPS.indexSelect,
    arb: data({}, nonScalar).chain((d) =>
      fc.nat({ max: d.shape.length - 1 }).chain((axis) =>
        fc.array(fc.nat({ max: d.shape[axis]! - 1 }), { minLength: 1, maxLength: 5 }).map((ids) => ({ d, axis, ids })),
      ),
    ),
    build: ({ d, axis, ids }) => {
      const index = tensor(ids, { dtype: 'i32' });
      return { inputs: [toTensor(d)], fn: (x) => t.square(indexSelect(x, axis, index)) };
    },
  }),
  spec({
    op: OPS.concat,
    arb: data({}, nonScalar).chain((d) =>
      fc.tuple(fc.nat({ max: d.shape.length - 1 }), fc.integer({ min: 1, max: 3 })).chain(([axis, extra]) => {
        const s2 = d.shape.map((s, i) => (i === axis ? extra : s));
        return valuesArb(s2).map((v2) => ({ d, axis, d2: { shape: s2, values: v2 } }));
      }),
    ),
    build: ({ d, axis, d2 }) => ({ inputs: [toTensor(d), toTensor(d2)], fn: (x, y) => t.square(concat([x, y, x], axis)) }),
  }),
  spec({
    op: OPS.pad,
    arb: data({}, nonScalar).chain((d) =>
      fc
        .array(fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.nat({ max: 2 })), { minLength: d.shape.length, maxLength: d.shape.length })
        .map((pads) => ({ d, pads })),
    ),
    build: ({ d, pads }) => ({
      inputs: [toTensor(d)],
      fn: (x) => t.square(t.add(apply(OPS.pad, [x], { pads, value: 0.5 }), 0.1)),
    }),
  }),
  spec({ op: OPS.tril, arb: data({}, matrixish).chain((d) => fc.tuple(fc.constant(d), fc.integer({ min: -2, max: 2 }))), build: ([d, k]) => ({ inputs: [toTensor(d)], fn: (x) => t.exp(tril(x, k)) }) }),
  spec({ op: OPS.triu, arb: data({}, matrixish).chain((d) => fc.tuple(fc.constant(d), fc.integer({ min: -2, max: 2 }))), build: ([d, k]) => ({ inputs: [toTensor(d)], fn: (x) => t.exp(triu(x, k)) }) }),
  spec({
    op: OPS.softmax,
    arb: data({ min: -5, max: 5 }, nonScalar).chain((d) => fc.tuple(fc.constant(d), fc.nat({ max: d.shape.length - 1 }))),
    build: ([d, axis]) => ({ inputs: [toTensor(d)], fn: (x) => softmax(x, axis) }),
  }),
  spec({
    op: OPS.logSoftmax,
    arb: data({ min: -5, max: 5 }, nonScalar).chain((d) => fc.tuple(fc.constant(d), fc.nat({ max: d.shape.length - 1 }))),
    build: ([d, axis]) => ({ inputs: [toTensor(d)], fn: (x) => logSoftmax(x, axis) }),
  }),
  spec({
    op: OPS.layerNorm,
    arb: data({}, shapeArb({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 4 })).chain((d) => {
      const c = d.shape[d.shape.length - 1]!;
      return fc.tuple(valuesArb([c]), valuesArb([c])).map(([w, b]) => ({ d: distinct(d), w: { shape: [c], values: w }, b: { shape: [c], values: b } }));
    }),
    build: ({ d, w, b }) => ({ inputs: [toTensor(d), toTensor(w), toTensor(b)], fn: (x, wt, bs) => layerNorm(x, wt, bs) }),
    tol: { atol: 1e-5, rtol: 1e-4 },
  }),
  spec({
    op: OPS.rmsNorm,
    arb: data({}, shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 })).chain((d) =>
      valuesArb([d.shape[d.shape.length - 1]!]).map((w) => ({ d: distinct(d), w: { shape: [d.shape[d.shape.length - 1]!], values: w } })),
    ),
    build: ({ d, w }) => ({ inputs: [toTensor(d), toTensor(w)], fn: (x, wt) => rmsNorm(x, wt, 1e-3) }),
    tol: { atol: 1e-5, rtol: 1e-4 },
  }),
  spec({
    op: OPS.rotary,
    arb: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).chain(([h, tl, half]) =>
      fc.tuple(valuesArb([h, tl, 2 * half]), valuesArb([tl, 2 * half]), valuesArb([tl, 2 * half])).map(([x, c, s]) => ({
        x: { shape: [h, tl, 2 * half], values: x },
        c: { shape: [tl, 2 * half], values: c },
        s: { shape: [tl, 2 * half], values: s },
      })),
    ),
    build: ({ x, c, s }) => ({ inputs: [toTensor(x), toTensor(c), toTensor(s)], fn: applyRotary }),
  }),
  attentionSpec(OPS.attention, 'direct'),
  attentionSpec(OPS.attentionForward, 'packed'),
  attentionSpec(OPS.attentionForward, 'sdpa'),
  attentionGradSpec(OPS.attentionGradQ),
  attentionGradSpec(OPS.attentionGradKV),
  spec({
    op: OPS.crossEntropy,
    arb: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2, max: 5 }), fc.constantFrom(0, 0.1)).chain(([n, c, smoothing]) =>
      fc
        .tuple(valuesArb([n, c]), fc.array(fc.integer({ min: -1, max: c - 1 }), { minLength: n, maxLength: n }))
        .map(([logits, targets]) => ({ smoothing, logits: { shape: [n, c], values: logits }, targets: targets.map((x, i) => (x < 0 && i > 0 ? -100 : Math.max(0, x))) })),
    ),
    build: ({ smoothing, logits, targets }) => {
      const y = tensor(targets, { dtype: 'i32' });
      return { inputs: [toTensor(logits)], fn: (x) => crossEntropy(x, y, { labelSmoothing: smoothing }) };
    },
  }),
  // The composites' backward ops: differentiable through their decompositions (second-order gradients).
  ...[OPS.softmaxBackward, OPS.logSoftmaxBackward].map((op) =>
    spec({
      op,
      arb: data({ min: -5, max: 5 }, nonScalar).chain((d) => fc.tuple(fc.constant(d), valuesArb(d.shape), fc.nat({ max: d.shape.length - 1 }))),
      build: ([d, g, axis]) => ({ inputs: [toTensor(d), toTensor({ shape: d.shape, values: g })], fn: (x, dy) => apply(op, [x, dy], { axis }) }),
    }),
  ),
  spec({
    // Second derivative of GELU (both forms) through geluBackward's decomposition; finite differences run the fused kernel.
    op: OPS.geluBackward,
    arb: data().chain((d) => fc.tuple(fc.constant(d), valuesArb(d.shape), fc.constantFrom<'none' | 'tanh'>('none', 'tanh'))),
    build: ([d, g, approximate]) => ({ inputs: [toTensor(d), toTensor({ shape: d.shape, values: g })], fn: (x, dy) => apply(OPS.geluBackward, [x, dy], { approximate }) }),
  }),
  ...[OPS.layerNormBackward, OPS.rmsNormBackward].map((op) =>
    spec({
      op,
      arb: data({}, shapeArb({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 4 })).chain((d) => {
        const c = d.shape[d.shape.length - 1]!;
        return fc.tuple(valuesArb(d.shape), valuesArb([c])).map(([g, w]) => ({ d: distinct(d), g: { shape: d.shape, values: g }, w: { shape: [c], values: w } }));
      }),
      build: ({ d, g, w }) => ({ inputs: [toTensor(d), toTensor(g), toTensor(w)], fn: (x, dy, wt) => apply(op, [x, dy, wt], { eps: 1e-3, hasWeight: true }) }),
      tol: { atol: 1e-5, rtol: 1e-4 },
    }),
  ),
  spec({
    op: OPS.rotaryBackward,
    arb: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })).chain(([h, tl, half]) =>
      fc.tuple(valuesArb([h, tl, 2 * half]), valuesArb([tl, 2 * half]), valuesArb([tl, 2 * half])).map(([g, c, s]) => ({
        g: { shape: [h, tl, 2 * half], values: g },
        c: { shape: [tl, 2 * half], values: c },
        s: { shape: [tl, 2 * half], values: s },
      })),
    ),
    build: ({ g, c, s }) => ({ inputs: [toTensor(g), toTensor(c), toTensor(s)], fn: (dy, cs, sn) => apply(OPS.rotaryBackward, [dy, cs, sn], undefined) }),
  }),
  ...[OPS.crossEntropyLosses, OPS.crossEntropyBackward].map((op) =>
    spec({
      op,
      arb: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2, max: 5 }), fc.constantFrom(0, 0.1)).chain(([n, c, smoothing]) =>
        fc
          .tuple(valuesArb([n, c]), valuesArb([n]), fc.array(fc.integer({ min: -1, max: c - 1 }), { minLength: n, maxLength: n }))
          .map(([logits, g, targets]) => ({ smoothing, logits: { shape: [n, c], values: logits }, g: { shape: [n], values: g }, targets: targets.map((x) => (x < 0 ? -100 : x)) })),
      ),
      build: ({ smoothing, logits, g, targets }) => {
        const y = tensor(targets, { dtype: 'i32' });
        const attrs = { ignoreIndex: -100, labelSmoothing: smoothing };
        return op === OPS.crossEntropyLosses
          ? { inputs: [toTensor(logits)], fn: (x) => apply(op, [x, y], attrs) }
          : { inputs: [toTensor(logits), toTensor(g)], fn: (x, gr) => apply(op, [x, y, gr], attrs) };
      },
    }),
  ),
  spec({
    op: OPS.dropout,
    arb: data({}, nonScalar),
    // A fresh generator per call: the analytic and both finite-difference evaluations draw the same mask.
    build: (d) => ({ inputs: [toTensor(d)], fn: (x) => dropout(x, 0.3, { generator: new Generator(7) }) }),
  }),
  spec({
    op: OPS.nf4Matmul,
    // Any bytes are a valid packed NF4 weight; the gradient flows to the input only.
    arb: fc
      .record({
        out: fc.integer({ min: 1, max: 5 }),
        inF: fc.integer({ min: 1, max: 6 }),
        rows: fc.integer({ min: 1, max: 3 }),
        transposeW: fc.boolean(),
        seed: fc.nat(),
      })
      .chain((r) => valuesArb([r.rows, r.transposeW ? r.inF : r.out]).map((x) => ({ ...r, x }))),
    build: ({ out, inF, rows, transposeW, seed, x }) => {
      const n = out * inF;
      const blocks = Math.ceil(n / 64);
      const bytes = (count: number, salt: number): number[] => Array.from({ length: count }, (_, i) => (seed * 31 + i * 17 + salt) % 256);
      const packed = tensor(bytes(Math.ceil(n / 2), 1), { dtype: 'u8' });
      const scalesQ = tensor(bytes(blocks, 2), { dtype: 'u8' });
      const scales2 = tensor([0.5], { dtype: 'f32' });
      const scaleCode = Array.from({ length: 256 }, (_, i) => (i - 128) / 128);
      const attrs = { shape: [out, inF], offset: 0.25, scaleCode, transposeW };
      const input = tensor(x, { shape: [rows, transposeW ? inF : out], dtype: 'f64' });
      return { inputs: [input], fn: (xx) => apply(OPS.nf4Matmul, [xx, packed, scalesQ, scales2], attrs) };
    },
  }),
  spec({
    op: checkpointOp,
    arb: fc.tuple(data({}, shapeArb({ minRank: 2, maxRank: 2, maxDim: 3 })), valuesArb([3, 3])),
    build: ([d, w]) => {
      const wt = tensor(w, { shape: [3, 3], dtype: 'f64' });
      const cols = d.shape[1]!;
      const block = (x: Tensor, m: Tensor): Tensor => t.tanh(matmul(x, slice(m, 0, 0, cols)));
      return { inputs: [toTensor(d), wt], fn: (x, m) => checkpoint(block, x, m) };
    },
  }),
];

describe('gradient rules agree with finite differences (f64)', () => {
  SPECS.forEach((s, i) => {
    it(`${s.op.name}${SPECS.findIndex((x) => x.op === s.op) === i ? '' : ` (variant ${i})`}`, () => {
      fc.assert(
        fc.property(s.arb, (sample) => {
          tidy(() => {
            const { inputs, fn } = s.build(sample);
            gradcheck(fn, inputs, { atol: s.tol?.atol ?? 1e-6, rtol: s.tol?.rtol ?? 1e-5, eps: s.tol?.eps ?? 1e-6 });
          });
        }),
        { numRuns: numRuns() },
      );
    });
  });
});

describe('gradient check coverage', () => {
  it('every differentiable op in the registry has a gradient check', () => {
    const covered = new Set(SPECS.map((s) => s.op));
    const missing = listOps()
      .filter((op) => op.differentiable && !covered.has(op))
      .map((op) => op.name);
    expect(missing).toEqual([]);
  });

  it('lists the differentiable ops it covers', () => {
    const names = listOps()
      .filter((op) => op.differentiable)
      .map((op) => op.name);
    expect(names.length).toBeGreaterThan(50);
  });
});
