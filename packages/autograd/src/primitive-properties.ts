// The cross-backend property of every primitive, shared by the kernels packages: on shapes with
// size-1, empty, odd and strided (offset, transposed, sliced, broadcast) operands, a backend's result
// equals the CPU result within the tolerance of its dtype (cross-backend.ts). Each package registers
// the returned properties as tests beside its own coverage check (which primitives it has kernels for).
import fc from 'fast-check';
import * as T from '@tessera/tensor';
import type { DType, Tensor } from '@tessera/tensor';
import { layoutArb, makeView, sameOnBoth, viewShapeArb as shapeArb, type Layout, type ValueKind } from './cross-backend.js';

/** Which backend the table runs on, and how many runs each property gets. */
export interface PrimitivePropertyOptions {
  /** The registered name of the backend under test. */
  device: string;
  /** fast-check runs per property. */
  numRuns: number;
}

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Each primitive's cross-backend property on `opts.device`, keyed by its name in OPS. */
export function primitiveProperties(opts: PrimitivePropertyOptions): Record<string, () => Promise<void>> {
  const dev0 = opts.device;
  const runs = { numRuns: opts.numRuns };

  const prop = <A extends unknown[]>(arbs: { [K in keyof A]: fc.Arbitrary<A[K]> }, body: (...args: A) => Promise<void>) =>
    fc.assert(fc.asyncProperty(...(arbs as [fc.Arbitrary<unknown>]), body as (...a: unknown[]) => Promise<void>), runs);
  const UNARY: [string, (x: Tensor) => Tensor, ValueKind, DType[]][] = [
    ['neg', T.neg, 'real', ['f32', 'i32', 'u8', 'f16']],
    ['abs', T.abs, 'real', ['f32', 'i32']],
    ['sign', T.sign, 'real', ['f32', 'i32']],
    ['exp', T.exp, 'real', ['f32', 'bf16']],
    ['log', T.log, 'positive', ['f32']],
    ['log1p', T.log1p, 'unit', ['f32']],
    ['sqrt', T.sqrt, 'positive', ['f32', 'f16']],
    ['rsqrt', T.rsqrt, 'positive', ['f32']],
    ['sin', T.sin, 'real', ['f32']],
    ['cos', T.cos, 'real', ['f32']],
    ['tanh', T.tanh, 'real', ['f32']],
    ['sigmoid', T.sigmoid, 'real', ['f32']],
    ['relu', T.relu, 'real', ['f32', 'i32']],
    ['erf', T.erf, 'real', ['f32']],
    ['softplus', T.softplus, 'real', ['f32']],
    ['clamp', (x) => T.clamp(x, -1, 1.5), 'real', ['f32', 'i32', 'u8']],
  ];

  const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, ValueKind, DType[]][] = [
    ['add', T.add, 'real', ['f32', 'i32', 'u8', 'bool', 'f16']],
    // u32: 0 - 5 wraps to 4294967291.
    ['sub', T.sub, 'real', ['f32', 'i32', 'u32']],
    ['mul', T.mul, 'real', ['f32', 'i32', 'bf16']],
    ['div', T.div, 'positive', ['f32', 'i32']],
    ['pow', T.pow, 'positive', ['f32']],
    ['maximum', T.maximum, 'real', ['f32', 'i32', 'u8']],
    ['minimum', T.minimum, 'real', ['f32', 'i32']],
    ['eq', T.eq, 'smallInt', ['f32', 'i32', 'bool']],
    ['ne', T.ne, 'smallInt', ['f32', 'i32']],
    ['lt', T.lt, 'smallInt', ['f32', 'u8']],
    ['le', T.le, 'smallInt', ['f32', 'i32']],
    ['gt', T.gt, 'smallInt', ['f32', 'i32']],
    ['ge', T.ge, 'smallInt', ['f32', 'u32']],
  ];

  /** A shape `b` broadcasting against `a`: some dims set to 1, some leading dims dropped. */
  const broadcastPair = shapeArb().chain((a) =>
    fc.tuple(fc.constant(a), fc.array(fc.boolean(), { minLength: a.length, maxLength: a.length }), fc.integer({ min: 0, max: a.length })).map(([s, ones, drop]) => [s, s.map((d, i) => (ones[i] ? 1 : d)).slice(drop)] as const),
  );

  const PROPERTIES: Record<string, () => Promise<void>> = {
    full: () => prop([shapeArb(), fc.constantFrom<DType>('f32', 'i32', 'u8', 'bool', 'f16', 'bf16'), fc.double({ min: -300, max: 300, noNaN: true })], async (s, d, v) =>
      sameOnBoth(dev0, `full ${d} [${s}]`, (dev) => T.full(s, v, { dtype: d, device: dev }))),
    arange: () => prop([fc.integer({ min: -5, max: 5 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom(1, 2, -1, 0.5), fc.constantFrom<DType>('f32', 'i32')], async (start, n, step, d) =>
      sameOnBoth(dev0, `arange ${start} ${step} ${d}`, (dev) => T.arange(start, start + n * step, step, { dtype: d === 'i32' && !Number.isInteger(step) ? 'f32' : d, device: dev }))),
    random: () => prop([shapeArb(), seedArb, fc.constantFrom('rand', 'randn', 'randint') as fc.Arbitrary<string>], async (s, seed, kind) =>
      sameOnBoth(dev0, `${kind} [${s}] seed ${seed}`, (dev) => {
        const g = new T.Generator(seed);
        g.next(seed % 1000); // start mid-stream
        if (kind === 'rand') return T.rand(s, { generator: g, device: dev });
        if (kind === 'randn') return T.randn(s, { generator: g, device: dev });
        return T.randint(-3, 1000, s, { generator: g, device: dev });
      })),
    where: () => prop([broadcastPair, layoutArb, seedArb], async ([s, t], layout, seed) =>
      sameOnBoth(dev0, `where [${s}] [${t}] ${layout}`, (dev) => T.where(makeView(dev, t, layout, 'bool', seed), makeView(dev, s, layout, 'f32', seed + 1), makeView(dev, t, 'dense', 'f32', seed + 2)))),
    sum: () => reduceProp(dev0, 'sum', (x, axes, keep) => T.sum(x, axes, keep), ['f32', 'i32', 'bool', 'f16']),
    max: () => reduceProp(dev0, 'max', (x, axes, keep) => T.max(x, axes, keep), ['f32', 'i32', 'u8', 'f16']),
    min: () => reduceProp(dev0, 'min', (x, axes, keep) => T.min(x, axes, keep), ['f32', 'i32']),
    argmax: () => argProp(dev0, 'argmax', T.argmax),
    argmin: () => argProp(dev0, 'argmin', T.argmin),
    matmul: () => prop(
      [fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 70 }), fc.boolean(), fc.boolean(), fc.constantFrom<DType>('f32', 'f16', 'i32'), seedArb],
      async (batch, m, k, n, ta, tb, d, seed) =>
        sameOnBoth(dev0, `matmul ${d} b${batch} ${m}x${k}x${n} ta=${ta} tb=${tb}`, (dev) => {
          const lead = batch === 0 ? [] : [batch];
          const a = ta ? T.transpose(makeView(dev, [...lead, k, m], 'dense', d, seed, 'smallInt')) : makeView(dev, [...lead, m, k], 'dense', d, seed, 'unit');
          // b broadcasts its batch dim (stride 0) in half the cases.
          const bLead = batch > 0 && seed % 2 === 0 ? [1] : lead;
          const b = tb ? T.transpose(makeView(dev, [...bLead, n, k], 'dense', d, seed + 1, 'unit')) : makeView(dev, [...bLead, k, n], 'sliced', d, seed + 1, 'unit');
          return T.matmul(a, b);
        }, d === 'f16' ? [4e-3, 4e-3] : [1e-4, 1e-4])),
    copy: () => prop([shapeArb(), layoutArb, fc.constantFrom<DType>('f32', 'u8', 'f16', 'i32', 'bool'), seedArb], async (s, layout, d, seed) =>
      sameOnBoth(dev0, `copy ${d} ${layout} [${s}]`, (dev) => T.clone(makeView(dev, s, layout, d, seed)))),
    cast: () => prop([shapeArb(), layoutArb, fc.constantFrom<DType>('f32', 'f64', 'i32', 'u32', 'u8', 'bool', 'f16', 'bf16'), fc.constantFrom<DType>('f32', 'f64', 'i32', 'u32', 'u8', 'bool', 'f16', 'bf16'), seedArb], async (s, layout, from, to, seed) =>
      sameOnBoth(dev0, `cast ${from}->${to} ${layout} [${s}]`, (dev) => T.cast(makeView(dev, s, layout, from, seed), to))),
    pad: () => prop([shapeArb(3, 4), layoutArb, fc.array(fc.tuple(fc.nat(2), fc.nat(2), fc.nat(1)), { minLength: 3, maxLength: 3 }), fc.constantFrom<DType>('f32', 'u8'), seedArb], async (s, layout, pads, d, seed) =>
      sameOnBoth(dev0, `pad ${d} ${layout} [${s}] ${JSON.stringify(pads)}`, (dev) => T.apply(T.OPS.pad, [makeView(dev, s, layout, d, seed)], { pads: pads.slice(0, s.length), value: 2 }))),
    gather: () => prop([shapeArb(3, 4).filter((s) => s.length > 0 && s.every((d) => d > 0)), layoutArb, seedArb, fc.nat(2)], async (s, layout, seed, ax) =>
      sameOnBoth(dev0, `gather ${layout} [${s}] axis ${ax % s.length}`, (dev) => {
        const axis = ax % s.length;
        const idxShape = s.map((d, i) => (i === axis ? d + 2 : Math.max(1, d - 1)));
        const next = Array.from({ length: T.numel(idxShape) }, (_, i) => (i * 7 + seed) % s[axis]!);
        return T.gather(makeView(dev, s, layout, 'f32', seed), axis, T.tensor(next, { shape: idxShape, dtype: 'i32', device: dev }));
      })),
    scatterAdd: () => prop([shapeArb(3, 4).filter((s) => s.length > 0 && s.every((d) => d > 0)), layoutArb, seedArb, fc.nat(2), fc.constantFrom<DType>('f32', 'i32')], async (s, layout, seed, ax, d) =>
      sameOnBoth(dev0, `scatterAdd ${d} ${layout} [${s}] axis ${ax % s.length}`, (dev) => {
        const axis = ax % s.length;
        const idxShape = s.map((dd, i) => (i === axis ? dd + 2 : dd));
        const idx = Array.from({ length: T.numel(idxShape) }, (_, i) => (i * 5 + seed) % s[axis]!);
        return T.scatterAdd(makeView(dev, s, layout, d, seed), axis, T.tensor(idx, { shape: idxShape, dtype: 'i32', device: dev }), makeView(dev, idxShape, 'dense', d, seed + 3, 'smallInt'));
      })),
    // Up to 15 inputs: more than one launch of a GPU backend binds (gpu.js WebGPU joins 6 at a time).
    concat: () => prop([shapeArb(3, 4).filter((s) => s.length > 0), layoutArb, seedArb, fc.nat(2), fc.array(fc.nat(3), { minLength: 1, maxLength: 14 }), fc.constantFrom<DType>('f32', 'u8', 'f16')], async (s, layout, seed, ax, sizes, d) =>
      sameOnBoth(dev0, `concat ${d} ${layout} [${s}] sizes ${sizes}`, (dev) => {
        const axis = ax % s.length;
        const parts = sizes.map((n, i) => makeView(dev, s.map((dd, j) => (j === axis ? n : dd)), i === 0 ? layout : 'dense', d, seed + i));
        return T.concat([...parts, makeView(dev, s, 'dense', d, seed + 9)], axis);
      })),
    nf4Dequantize: () => prop([fc.integer({ min: 1, max: 300 }), seedArb], async (n, seed) =>
      sameOnBoth(dev0, `nf4Dequantize ${n}`, (dev) => {
        const blocks = Math.ceil(n / 64);
        const code = Array.from({ length: 256 }, (_, i) => Math.sin(i + seed));
        const packed = T.tensor(Array.from({ length: Math.ceil(n / 2) }, (_, i) => (i * 37 + seed) % 256), { dtype: 'u8', device: dev });
        const q = T.tensor(Array.from({ length: blocks }, (_, i) => (i * 11 + seed) % 256), { dtype: 'u8', device: dev });
        const s2 = T.tensor(Array.from({ length: Math.ceil(blocks / 256) }, (_, i) => 0.5 + i), { dtype: 'f32', device: dev });
        return T.nf4Dequantize(packed, q, s2, { shape: [n], offset: 0.25, scaleCode: code });
      })),
  };
  for (const [name, fn, kind, dtypes] of UNARY) {
    PROPERTIES[name] = () => prop([shapeArb(), layoutArb, fc.constantFrom(...dtypes), seedArb], async (s, layout, d, seed) =>
      sameOnBoth(dev0, `${name} ${d} ${layout} [${s}]`, (dev) => fn(makeView(dev, s, layout, d, seed, kind))));
  }
  for (const [name, fn, kind, dtypes] of BINARY) {
    PROPERTIES[name] = () => prop([broadcastPair, layoutArb, fc.constantFrom(...dtypes), seedArb, fc.boolean()], async ([s, t], layout, d, seed, swap) =>
      sameOnBoth(dev0, `${name} ${d} ${layout} [${s}] [${t}]`, (dev) => {
        const a = makeView(dev, s, layout, d, seed, kind);
        const b = makeView(dev, t, 'dense', d, seed + 1, kind);
        return swap ? fn(b, a) : fn(a, b);
      }));
  }

  function reduceProp(dev0: string, name: string, fn: (x: Tensor, axes: number[], keep: boolean) => Tensor, dtypes: DType[]): Promise<void> {
    return prop([shapeArb(3, 6), layoutArb, fc.constantFrom(...dtypes), seedArb, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.boolean()], async (s, layout, d, seed, pick, keep) => {
      const axes = s.map((_, i) => i).filter((i) => pick[i]);
      if (name !== 'sum' && axes.some((a) => s[a] === 0)) return;
      await sameOnBoth(dev0, `${name} ${d} ${layout} [${s}] axes [${axes}]`, (dev) => fn(makeView(dev, s, layout, d, seed, 'smallInt'), axes, keep));
    });
  }

  function argProp(dev0: string, name: string, fn: (x: Tensor, axis?: number, keep?: boolean) => Tensor): Promise<void> {
    return prop([shapeArb(3, 6).filter((s) => s.length > 0), layoutArb, fc.constantFrom<DType>('f32', 'i32', 'u8'), seedArb, fc.nat(2)], async (s, layout, d, seed, ax) => {
      const axis = ax % s.length;
      if (s[axis] === 0) return;
      // smallInt values: many ties, so the first-index rule is exercised.
      await sameOnBoth(dev0, `${name} ${d} ${layout} [${s}] axis ${axis}`, (dev) => fn(makeView(dev, s, layout as Layout, d, seed, 'smallInt'), axis));
    });
  }

  return PROPERTIES;
}
