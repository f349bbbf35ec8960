// full and arange: kernels with no inputs, their numbers in the table m. Integers of integer dtypes
// beyond ±2^24 are refused as upload refuses them (f32 values would round them).
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, numel, type DType, type Shape } from '@tessera/tensor';
import { checkExactInteger } from '../exact-integers.js';
import type { GpuJsKernel } from '../gpujs-kernel.js';

const isInteger = (dtype: DType): boolean => dtype === 'i32' || dtype === 'u32' || dtype === 'u8';

/** A new tensor holding `value` everywhere. */
export const fullKernel: GpuJsKernel<{ shape: Shape; value: number; dtype: DType }> = (ctx, _inputs, { value, dtype }, out) =>
  ctx.run({ source: 'function(m) {\nreturn m[0];\n}', size: numel(out.shape), args: [Float32Array.of(valueOf(value, dtype))] });

/**
 * The value as the target dtype stores it, taken before it becomes an f32 (which would round
 * 299.99998 up to 300 before an i32 cast truncates, and flush 5e-324 to a false bool) and before a
 * GPU sees it (an f32 subnormal that rounds to a normal bf16 would be flushed there).
 */
function valueOf(value: number, dtype: DType): number {
  if (dtype === 'bool') return value !== 0 ? 1 : 0;
  if (dtype === 'f16') return f16ToF32(f32ToF16(value));
  if (dtype === 'bf16') return bf16ToF32(f32ToBf16(value));
  if (isInteger(dtype)) {
    // NaN and ±Infinity store as 0, as the CPU's typed arrays store them (not refused as beyond 2^24).
    const int = Number.isFinite(value) ? Math.trunc(value) : 0;
    checkExactInteger('full', dtype, int);
    return int;
  }
  return value;
}

/** start + i * step for each i (no accumulated error). */
export const arangeKernel: GpuJsKernel<{ start: number; step: number; size: number; dtype: DType }> = (ctx, _inputs, { start, step, size, dtype }) => {
  if (isInteger(dtype) && size > 0) {
    // Both ends, and the largest product i * step the kernel forms, must be exact f32 integers.
    checkExactInteger('arange', dtype, start, ' (start)');
    checkExactInteger('arange', dtype, start + (size - 1) * step, ` (element ${size - 1})`);
    checkExactInteger('arange', dtype, (size - 1) * step, ` (the step ${step} times ${size - 1}, added to start in f32)`);
  }
  return ctx.run({ source: 'function(m) {\nreturn m[0] + (this.thread.x * 1.0) * m[1];\n}', size, args: [Float32Array.of(start, step)] });
};
