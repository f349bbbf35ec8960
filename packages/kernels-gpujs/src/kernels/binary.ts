// Every elementwise binary primitive as one gpu.js expression over v0 and v1 (broadcast by their
// layouts). Comparisons give 1/0; the dispatcher casts them to bool.
import { OPS, type OpDef } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';
import { SPECIAL_VALUES, extremeFoldCode, powCode } from './scalar-functions.js';

/** [setup statements, expression] per op; P0/P1 hold +∞ and NaN (SPECIAL_VALUES). */
const BINARY: ReadonlyMap<OpDef, readonly [string, string]> = new Map<OpDef, readonly [string, string]>([
  [OPS.add, ['', 'v0 + v1']],
  [OPS.sub, ['', 'v0 - v1']],
  [OPS.mul, ['', 'v0 * v1']],
  [OPS.div, ['', 'v0 / v1']],
  [OPS.pow, [powCode('v0', 'v1', 'r', 'P0', 'P1'), 'r']],
  // GPU max/min return the other operand for a NaN; the CPU (Math.max/min, PyTorch) gives NaN.
  [OPS.maximum, [`let r = v0;\n${extremeFoldCode('r', 'v1', '>')}`, 'r']],
  [OPS.minimum, [`let r = v0;\n${extremeFoldCode('r', 'v1', '<')}`, 'r']],
  ...(
    [
      [OPS.eq, '=='],
      [OPS.ne, '!='],
      [OPS.lt, '<'],
      [OPS.le, '<='],
      [OPS.gt, '>'],
      [OPS.ge, '>='],
    ] as const
  ).map(([op, cmp]) => [op, [`let cmpv = 0.0;\nif (v0 ${cmp} v1) { cmpv = 1.0; }`, 'cmpv']] as [OpDef, readonly [string, string]]),
]);

/** The kernel of one binary primitive. */
export function binaryKernel(op: OpDef): GpuJsKernel {
  const entry = BINARY.get(op);
  if (entry === undefined) throw new Error(`gpujs: no binary expression for ${op.name}`);
  const [setup, expr] = entry;
  return (ctx, [a, b], _attrs, out) => launchMap(ctx, op.name, [a!, b!], out.shape, expr, SPECIAL_VALUES, setup);
}
