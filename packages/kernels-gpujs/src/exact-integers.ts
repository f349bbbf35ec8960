// What gpu.js's f32 values hold exactly: integers up to 2^24. Element values of integer dtypes, and
// every element count (kernels number their threads and compute every index in f32 on WebGL/WebGPU;
// the shape table `m` is an f32 array in every mode, cpu included), stop being exact above it, so
// both are refused with an error instead of giving wrong values.
import type { DType } from '@tessera/tensor';
import { GpuJsUnsupportedError } from './kernel-source.js';

/** The largest integer magnitude below which every integer is an f32 value. */
export const EXACT_INTEGER_LIMIT = 2 ** 24;

/** Refuses an integer `value` of `dtype` beyond ±2^24 (`where` says which element, for the message). */
export function checkExactInteger(what: string, dtype: DType, value: number, where = ''): void {
  if (Math.abs(value) > EXACT_INTEGER_LIMIT) {
    throw new GpuJsUnsupportedError(
      `${what}: ${dtype} value ${value}${where} is beyond ±2^24, which gpu.js's f32 values cannot hold exactly; keep such integers on the cpu backend`,
    );
  }
}

/**
 * Refuses a tensor of more than 2^24 elements: its thread numbers, coordinates and offsets would be
 * rounded (the review's check: x = i % 7 with 2^24 + 8 elements read back wrong values near the end,
 * and 2^24 + 1 elements did so in cpu mode too, through the f32 shape table).
 */
export function checkElementCount(what: string, size: number): void {
  if (size > EXACT_INTEGER_LIMIT) {
    throw new GpuJsUnsupportedError(
      `${what} has ${size} elements, above the gpujs backend's limit of 2^24 (16777216) per tensor: gpu.js kernels number elements in f32; ` +
        'split the tensor into parts of at most 2^24 elements, or use the cpu or webgpu backend',
    );
  }
}
