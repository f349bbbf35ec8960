// Every elementwise unary primitive as one gpu.js expression over v0 (the input value), run by the map
// kernel. Values compute in f32 (gpu.js has no other float type).
import { OPS, type OpDef } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';

/** x - 2πk (k the nearest integer to x / 2π) as `tr`; 2π = 6.28125 + 0.0019353071795864769 keeps k·6.28125 exact. */
const REDUCE_2PI = 'let tk = Math.floor(v0 * 0.15915494309189535 + 0.5);\nlet tr = (v0 - tk * 6.28125) - tk * 0.0019353071795864769;';

/** Taylor coefficients (-1)^j / (first + 2j)! for the powers first, first + 2, ..., last. */
function tr2Terms(first: number, last: number): number[] {
  const out: number[] = [];
  let fact = 1;
  for (let p = 1; p <= first; p++) fact *= p;
  for (let p = first, sign = 1; p <= last; p += 2, sign = -sign) {
    out.push(sign / fact);
    fact *= (p + 1) * (p + 2);
  }
  return out;
}

/** The series Σ c_j · tr2^j in Horner form (the caller multiplies by tr for odd functions). */
function series(coefficients: readonly number[]): string {
  return coefficients.reduceRight((inner, c, j) => (j === coefficients.length - 1 ? `${c.toPrecision(17)}` : `(${c.toPrecision(17)} + tr2 * ${inner})`), '');
}

/** [setup statements, expression] per op; P0/P1 are clamp's bounds. */
const UNARY: ReadonlyMap<OpDef, readonly [string, string]> = new Map<OpDef, readonly [string, string]>([
  [OPS.neg, ['', '0.0 - v0']],
  [OPS.abs, ['', 'Math.abs(v0)']],
  [OPS.sign, ['', 'Math.sign(v0)']],
  [OPS.exp, ['', 'Math.exp(v0)']],
  [OPS.log, ['', 'Math.log(v0)']],
  [OPS.log1p, ['', 'Math.log1p(v0)']],
  [OPS.sqrt, ['', 'Math.sqrt(v0)']],
  [OPS.rsqrt, ['', '1.0 / Math.sqrt(v0)']],
  // GLSL's sin/cos may be coarse (SwiftShader's err by 1e-4 at |x| ~ 4): reduce to [-π, π] with a
  // two-part 2π and sum the Taylor series (terms to x^17/x^18, truncation < 3e-8), on every device alike.
  [OPS.sin, [`${REDUCE_2PI}\nlet tr2 = tr * tr;`, `tr * ${series(tr2Terms(1, 17))}`]],
  [OPS.cos, [`${REDUCE_2PI}\nlet tr2 = tr * tr;`, series(tr2Terms(0, 18))]],
  [OPS.tanh, ['', 'Math.tanh(v0)']],
  // exp of a non-positive argument only, so large |x| neither overflows nor loses the small side.
  [OPS.sigmoid, ['let ez = Math.exp(0.0 - Math.abs(v0));\nlet sg = 1.0 / (1.0 + ez);\nif (v0 < 0.0) { sg = ez / (1.0 + ez); }', 'sg']],
  [OPS.relu, ['', 'Math.max(v0, 0.0)']],
  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): GLSL has no erf.
  [
    OPS.erf,
    [
      'let ea = Math.abs(v0);\nlet et = 1.0 / (1.0 + 0.3275911 * ea);\nlet ep = ((((1.061405429 * et - 1.453152027) * et + 1.421413741) * et - 0.284496736) * et + 0.254829592) * et;',
      'Math.sign(v0) * (1.0 - ep * Math.exp(0.0 - ea * ea))',
    ],
  ],
  [OPS.softplus, ['', 'Math.max(v0, 0.0) + Math.log1p(Math.exp(0.0 - Math.abs(v0)))']],
  [OPS.clamp, ['', 'Math.min(Math.max(v0, P0), P1)']],
]);

/** The kernel of one unary primitive. */
export function unaryKernel(op: OpDef): GpuJsKernel {
  const entry = UNARY.get(op);
  if (entry === undefined) throw new Error(`gpujs: no unary expression for ${op.name}`);
  const [setup, expr] = entry;
  return (ctx, [x], attrs: { min?: number; max?: number } | undefined, out) =>
    launchMap(ctx, op.name, [x!], out.shape, expr, op === OPS.clamp ? [attrs!.min!, attrs!.max!] : [], setup);
}
