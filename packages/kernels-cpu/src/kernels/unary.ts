// Every elementwise unary primitive is one scalar function in a table, run by one strided kernel.
// Values are computed in double precision and rounded once when stored into the output array.
import { OPS, allocTyped, type OpDef } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { erf } from '../erf.js';
import { denseStrides, forEachRow, isDenseRowMajor } from '../strided.js';

/** A scalar function of one element (and the op's attributes, for clamp). */
export type UnaryFn = (x: number, attrs: any) => number;

/** log(1 + e^x) without overflow for large x or loss of precision for very negative x. */
export function softplus(x: number): number {
  if (x > 20) return x;
  if (x < -37) return Math.exp(x); // log1p(e^x) == e^x to double precision here
  return Math.log1p(Math.exp(x));
}

/** 1 / (1 + e^-x), evaluated on the side where the exponential cannot overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** The scalar function of each unary primitive. */
export const UNARY_FUNCTIONS: ReadonlyMap<OpDef, UnaryFn> = new Map<OpDef, UnaryFn>([
  [OPS.neg, (x) => -x],
  [OPS.abs, (x) => Math.abs(x)],
  [OPS.sign, (x) => Math.sign(x)],
  [OPS.exp, (x) => Math.exp(x)],
  [OPS.log, (x) => Math.log(x)],
  [OPS.log1p, (x) => Math.log1p(x)],
  [OPS.sqrt, (x) => Math.sqrt(x)],
  [OPS.rsqrt, (x) => 1 / Math.sqrt(x)],
  [OPS.sin, (x) => Math.sin(x)],
  [OPS.cos, (x) => Math.cos(x)],
  [OPS.tanh, (x) => Math.tanh(x)],
  [OPS.sigmoid, sigmoid],
  // NaN passes through relu, as in PyTorch.
  [OPS.relu, (x) => (x > 0 || x !== x ? x : 0)],
  [OPS.erf, erf],
  [OPS.softplus, softplus],
  [OPS.clamp, (x, { min, max }: { min: number; max: number }) => (x < min ? min : x > max ? max : x)],
]);

/** The strided kernel for one unary scalar function. */
export function unaryKernel(fn: UnaryFn): CpuKernel {
  return ([x], attrs, out) => {
    const src = dataOf(x!);
    const dst = allocTyped(out.dtype, x!.shape.reduce((a, b) => a * b, 1));
    // Integer arrays truncate and wrap on assignment by themselves; only bool needs 0/1.
    const f: UnaryFn = out.dtype === 'bool' ? (v, a) => (fn(v, a) !== 0 ? 1 : 0) : fn;
    if (isDenseRowMajor(x!)) {
      // Fast path: one pass over consecutive elements.
      const off = x!.offset;
      for (let i = 0; i < dst.length; i++) dst[i] = f(src[off + i]!, attrs);
      return dst;
    }
    forEachRow(out.shape, [denseStrides(out.shape), x!.strides], [0, x!.offset], (offs, n, inner) => {
      const si = inner[1]!;
      let o = offs[0]!;
      let i = offs[1]!;
      for (let t = 0; t < n; t++, o++, i += si) dst[o] = f(src[i]!, attrs);
    });
    return dst;
  };
}

/** A kernel for every unary primitive, keyed by op. */
export const UNARY_KERNELS: ReadonlyMap<OpDef, CpuKernel> = new Map([...UNARY_FUNCTIONS].map(([op, fn]) => [op, unaryKernel(fn)]));
