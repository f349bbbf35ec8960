// Every elementwise unary primitive as one gpu.js expression over v0 (the input value), run by the map
// kernel. Values compute in f32 (gpu.js has no other float type).
import { OPS, type OpDef } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';

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
  [OPS.sin, ['', 'Math.sin(v0)']],
  [OPS.cos, ['', 'Math.cos(v0)']],
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
