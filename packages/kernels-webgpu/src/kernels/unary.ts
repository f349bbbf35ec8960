// Every elementwise unary primitive is one WGSL expression of `x` per compute type, run by one
// generated strided shader per (op, dtype).
import { OPS, type DType, type OpDef } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { collapse, f32Bits, runMap } from '../map-dispatch.js';
import { computeType, type ComputeType } from '../wgsl/dtype-io.js';
import { extraBase } from '../wgsl/indexing.js';

type Expr = Partial<Record<ComputeType, string>>;

// clamp's bounds are f32 words after the single operand's layout.
const LO = `pf(${extraBase(1)}u)`;
const HI = `pf(${extraBase(1) + 1}u)`;

/** WGSL of each unary primitive, by compute type (absent: the op never sees that type). */
export const UNARY_EXPRESSIONS: ReadonlyMap<OpDef, Expr> = new Map<OpDef, Expr>([
  [OPS.neg, { f32: '-x', i32: '-x', u32: '0u - x' }],
  [OPS.abs, { f32: 'abs(x)', i32: 'abs(x)', u32: 'x' }],
  [OPS.sign, { f32: 'sign_f(x)', i32: 'sign(x)', u32: 'select(0u, 1u, x > 0u)' }],
  [OPS.exp, { f32: 'exp(x)' }],
  [OPS.log, { f32: 'log(x)' }],
  [OPS.log1p, { f32: 'log1p_f(x)' }],
  [OPS.sqrt, { f32: 'sqrt(x)' }],
  [OPS.rsqrt, { f32: '1.0 / sqrt(x)' }],
  [OPS.sin, { f32: 'sin(x)' }],
  [OPS.cos, { f32: 'cos(x)' }],
  [OPS.tanh, { f32: 'tanh_f(x)' }],
  [OPS.sigmoid, { f32: 'sigmoid_f(x)' }],
  // NaN passes through relu, as in PyTorch.
  [OPS.relu, { f32: 'select(0.0, x, x > 0.0 || is_nan(x))', i32: 'max(x, 0)', u32: 'x' }],
  [OPS.erf, { f32: 'erf_f(x)' }],
  [OPS.softplus, { f32: 'softplus_f(x)' }],
  [
    OPS.clamp,
    {
      f32: `select(select(x, ${HI}, x > ${HI}), ${LO}, x < ${LO})`,
      // Integers compare against the (possibly fractional or infinite) bounds in f32.
      i32: `select(select(x, f32_to_i32(${HI}), f32(x) > ${HI}), f32_to_i32(${LO}), f32(x) < ${LO})`,
      u32: `select(select(x, bitcast<u32>(f32_to_i32(${HI})), f32(x) > ${HI}), bitcast<u32>(f32_to_i32(${LO})), f32(x) < ${LO})`,
    },
  ],
]);

/** The kernel of one unary primitive. */
export function unaryKernel(op: OpDef): GpuKernel {
  const exprs = UNARY_EXPRESSIONS.get(op)!;
  return (ctx, [x], attrs: { min?: number; max?: number } | undefined, out) => {
    const dtype: DType = x!.dtype;
    const expr = exprs[computeType(dtype)];
    if (!expr) throw new TypeError(`${op.name}: the webgpu backend has no ${dtype} kernel (shape [${x!.shape.join(',')}]); cast to f32 first`);
    const plan = collapse(x!.shape, [x!.strides]);
    return runMap(ctx, {
      key: `unary:${op.name}:${dtype}:${out.dtype}`,
      spec: { inputs: [dtype], out: out.dtype, value: `let x = in0(offset_of(${4 + 8}u, i));\n  return ${out.dtype === dtype ? expr : `${expr}`};` },
      shape: plan.shape,
      inputs: [x!],
      strides: plan.strides,
      extra: op === OPS.clamp ? [f32Bits(attrs!.min!), f32Bits(attrs!.max!)] : undefined,
      windows: ['strided'],
      where: op.name,
    });
  };
}
