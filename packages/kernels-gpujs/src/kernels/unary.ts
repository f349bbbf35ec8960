// Every elementwise unary primitive as one gpu.js expression over v0 (the input value), run by the map
// kernel. Values compute in f32 (gpu.js has no other float type); the functions whose GPU built-ins
// differ from the CPU backend at NaN, near 0 or at large |x| come from scalar-functions.ts.
import { OPS, type OpDef } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';
import { SPECIAL_VALUES, clampCode, erfCode, expCode, horner, isNanCode, log1pCode, logCode, reluCode, signCode, softplusCode, tanhCode } from './scalar-functions.js';

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
const series = (coefficients: readonly number[]): string => horner('tr2', coefficients);

/** [setup statements, expression] per op; P0/P1 hold +∞ and NaN (SPECIAL_VALUES), P2/P3 clamp's bounds. */
const UNARY: ReadonlyMap<OpDef, readonly [string, string]> = new Map<OpDef, readonly [string, string]>([
  [OPS.neg, ['', '0.0 - v0']],
  [OPS.abs, ['', 'Math.abs(v0)']],
  [OPS.sign, [signCode('v0', 'r'), 'r']],
  [OPS.exp, [expCode('v0', 'r'), 'r']],
  [OPS.log, [logCode('v0', 'r', 'P0', 'P1'), 'r']],
  [OPS.log1p, [log1pCode('v0', 'r', 'P0', 'P1'), 'r']],
  [OPS.sqrt, ['', 'Math.sqrt(v0)']],
  [OPS.rsqrt, ['', '1.0 / Math.sqrt(v0)']],
  // GLSL's sin/cos may be coarse (SwiftShader's err by 1e-4 at |x| ~ 4): reduce to [-π, π] with a
  // two-part 2π and sum the Taylor series (terms to x^17/x^18, truncation < 3e-8), on every device alike.
  [OPS.sin, [`${REDUCE_2PI}\nlet tr2 = tr * tr;`, `tr * ${series(tr2Terms(1, 17))}`]],
  [OPS.cos, [`${REDUCE_2PI}\nlet tr2 = tr * tr;`, series(tr2Terms(0, 18))]],
  [OPS.tanh, [tanhCode('v0', 'r'), 'r']],
  // exp of a non-positive argument only, so large |x| neither overflows nor loses the small side;
  // NaN passed through (SwiftShader's exp(NaN) is +∞, which made sigmoid(NaN) 0).
  [OPS.sigmoid, [`let ez = Math.exp(0.0 - Math.abs(v0));\nlet sg = 1.0 / (1.0 + ez);\nif (v0 < 0.0) { sg = ez / (1.0 + ez); }\nif (${isNanCode('v0')}) { sg = v0; }`, 'sg']],
  [OPS.relu, [reluCode('v0', 'r'), 'r']],
  [OPS.erf, [erfCode('v0', 'r'), 'r']],
  [OPS.softplus, [softplusCode('v0', 'r', 'P0', 'P1'), 'r']],
  [OPS.clamp, [clampCode('v0', 'P2', 'P3', 'r'), 'r']],
]);

/** The kernel of one unary primitive. */
export function unaryKernel(op: OpDef): GpuJsKernel {
  const entry = UNARY.get(op);
  if (entry === undefined) throw new Error(`gpujs: no unary expression for ${op.name}`);
  const [setup, expr] = entry;
  return (ctx, [x], attrs: { min?: number; max?: number } | undefined, out) =>
    launchMap(ctx, op.name, [x!], out.shape, expr, op === OPS.clamp ? [...SPECIAL_VALUES, attrs!.min!, attrs!.max!] : SPECIAL_VALUES, setup);
}
