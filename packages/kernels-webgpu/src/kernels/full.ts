// full / arange: creation kernels with no inputs. full's value is converted to its dtype's compute
// representation here, with the CPU's typed-array semantics (ToInt32 for i32, wrapping for u32/u8).
import type { DType, Shape } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { f32Bits, runMap } from '../map-dispatch.js';
import { computeType } from '../wgsl/dtype-io.js';
import { extraBase } from '../wgsl/indexing.js';

/** The u32 word a value of `dtype` computes as (f32 bits, i32 two's complement, u32, 0/1 for bool). */
export function computeWord(dtype: DType, value: number): number {
  if (dtype === 'bool') return value !== 0 ? 1 : 0;
  switch (computeType(dtype)) {
    case 'f32':
      return f32Bits(value);
    case 'i32':
      return (value | 0) >>> 0;
    default:
      return value >>> 0;
  }
}

/** A new tensor of `shape` holding `value` everywhere. */
export const fullKernel: GpuKernel<{ shape: Shape; value: number; dtype: DType }> = (ctx, _inputs, { value }, out) => {
  const ct = computeType(out.dtype);
  return runMap(ctx, {
    key: `full:${out.dtype}`,
    spec: { inputs: [], out: out.dtype, value: `return bitcast<${ct}>(p(${extraBase(0)}u));` },
    shape: out.shape,
    inputs: [],
    extra: [computeWord(out.dtype, value)],
    windows: [],
    where: 'full',
  });
};

/** start + i * step for i < size (integer arithmetic when the dtype and both numbers are integers). */
export const arangeKernel: GpuKernel<{ start: number; step: number; size: number; dtype: DType }> = (ctx, _inputs, { start, step }, out) => {
  const ct = computeType(out.dtype);
  const exact = ct !== 'f32' && Number.isInteger(start) && Number.isInteger(step);
  const e = extraBase(0);
  const value = exact
    ? `return bitcast<${ct}>(p(${e}u) + i * p(${e + 1}u));`
    : ct === 'f32'
      ? `return pf(${e}u) + f32(i) * pf(${e + 1}u);`
      : `return bitcast<${ct}>(f32_to_i32(pf(${e}u) + f32(i) * pf(${e + 1}u)));`;
  return runMap(ctx, {
    key: `arange:${out.dtype}:${exact}`,
    spec: { inputs: [], out: out.dtype, value },
    shape: out.shape,
    inputs: [],
    extra: exact ? [start >>> 0, step >>> 0] : [f32Bits(start), f32Bits(step)],
    windows: [],
    where: 'arange',
  });
};
