// Every broadcasting binary primitive is one WGSL expression of `a` and `b`, run by one generated
// strided shader per (op, dtype). Comparisons compute in the inputs' type; div and pow of integers
// compute in f32 (their output dtype), as the CPU backend does.
import { OPS, type OpDef } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { collapse, runMap } from '../map-dispatch.js';
import { computeType, convertExpr, type ComputeType } from '../wgsl/dtype-io.js';
import { broadcastStrides, operandBase } from '../wgsl/indexing.js';

type Expr = Partial<Record<ComputeType, string>> & { all?: string };

const NAN_EITHER = 'is_nan(a) || is_nan(b)';

/** WGSL of each binary primitive, by the type it computes in (`all`: every type). */
export const BINARY_EXPRESSIONS: ReadonlyMap<OpDef, Expr> = new Map<OpDef, Expr>([
  [OPS.add, { all: 'a + b' }],
  [OPS.sub, { all: 'a - b' }],
  [OPS.mul, { all: 'a * b' }],
  [OPS.div, { f32: 'a / b' }],
  [OPS.pow, { f32: 'pow_f(a, b)' }],
  // NaN propagates, as Math.max / torch.maximum do.
  [OPS.maximum, { f32: `select(select(b, a, a > b), nan_f32(), ${NAN_EITHER})`, i32: 'max(a, b)', u32: 'max(a, b)' }],
  [OPS.minimum, { f32: `select(select(b, a, a < b), nan_f32(), ${NAN_EITHER})`, i32: 'min(a, b)', u32: 'min(a, b)' }],
  [OPS.eq, { all: 'select(0u, 1u, a == b)' }],
  [OPS.ne, { all: 'select(0u, 1u, a != b)' }],
  [OPS.lt, { all: 'select(0u, 1u, a < b)' }],
  [OPS.le, { all: 'select(0u, 1u, a <= b)' }],
  [OPS.gt, { all: 'select(0u, 1u, a > b)' }],
  [OPS.ge, { all: 'select(0u, 1u, a >= b)' }],
]);

const COMPARISONS = new Set<OpDef>([OPS.eq, OPS.ne, OPS.lt, OPS.le, OPS.gt, OPS.ge]);

/** The kernel of one binary primitive. */
export function binaryKernel(op: OpDef): GpuKernel {
  const exprs = BINARY_EXPRESSIONS.get(op)!;
  return (ctx, [a, b], _attrs, out) => {
    const dtype = a!.dtype;
    const opDtype = COMPARISONS.has(op) ? dtype : out.dtype;
    const ct = computeType(opDtype);
    const expr = exprs.all ?? exprs[ct];
    if (!expr) throw new TypeError(`${op.name}: the webgpu backend has no ${dtype} kernel (shapes [${a!.shape.join(',')}], [${b!.shape.join(',')}])`);
    const plan = collapse(out.shape, [broadcastStrides(a!, out.shape), broadcastStrides(b!, out.shape)]);
    // Comparisons yield 0/1 as u32; everything else yields the output's compute type.
    const result = COMPARISONS.has(op) ? expr : expr;
    return runMap(ctx, {
      key: `binary:${op.name}:${dtype}:${out.dtype}`,
      spec: {
        inputs: [dtype, b!.dtype],
        out: out.dtype,
        value: `let a = ${convertExpr(`in0(offset_of(${operandBase(0)}u, i))`, dtype, opDtype)};
  let b = ${convertExpr(`in1(offset_of(${operandBase(1)}u, i))`, b!.dtype, opDtype)};
  return ${result};`,
      },
      shape: plan.shape,
      inputs: [a!, b!],
      strides: plan.strides,
      windows: ['strided', 'strided'],
      where: op.name,
    });
  };
}
