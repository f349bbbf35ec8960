// Runs a map shader (wgsl/map-shader.ts): allocates the output, fills the shared layout words and
// dispatches one invocation per output word. Kernels pass their own words in `extra`.
import type { DType, Shape, TensorView } from '@tessera/tensor';
import { GpuContext, PARAM_WORDS, WORKGROUP } from './gpu-context.js';
import { storageBytes } from './wgsl/dtype-io.js';
import { extraBase, writeLayout } from './wgsl/indexing.js';
import { mapInvocations, mapShaderSource, type MapShaderSpec } from './wgsl/map-shader.js';

/** One map dispatch: the shader, the iteration shape, and each input's layout over it. */
export interface MapCall {
  /** Pipeline cache key: kernel name + everything the source depends on. */
  readonly key: string;
  readonly spec: MapShaderSpec;
  readonly shape: Shape;
  readonly inputs: readonly TensorView[];
  /** Each input's strides over `shape` (default: its own strides). */
  readonly strides?: readonly (readonly number[])[];
  /** Kernel-specific parameter words, written from extraBase(inputs.length). */
  readonly extra?: ArrayLike<number>;
  /** Write into this buffer instead of a new one. */
  readonly into?: GPUBuffer;
  readonly where: string;
}

/** The GPU buffer behind a view. */
export function bufferOf(view: TensorView): GPUBuffer {
  return view.storage.data as GPUBuffer;
}

/** Dispatches a map shader and returns its output buffer (shape `call.shape`, dtype `call.spec.out`). */
export function runMap(ctx: GpuContext, call: MapCall): GPUBuffer {
  const n = call.shape.reduce((a, b) => a * b, 1);
  const out = call.into ?? ctx.acquire(storageBytes(call.spec.out, n));
  if (n === 0) return out;
  const params = new Uint32Array(PARAM_WORDS);
  writeLayout(
    params,
    call.shape,
    call.inputs.map((v, k) => ({ offset: v.offset, strides: call.strides?.[k] ?? v.strides })),
    call.where,
  );
  if (call.extra) {
    const base = extraBase(call.inputs.length);
    for (let i = 0; i < call.extra.length; i++) params[base + i] = call.extra[i]! >>> 0;
  }
  const pipeline = ctx.pipelines.get(call.key, call.inputs.length, () => mapShaderSource(call.spec));
  ctx.dispatch(pipeline, call.inputs.map(bufferOf), out, params, Math.ceil(mapInvocations(call.spec.out, n) / WORKGROUP));
  return out;
}

/** The u32 word holding an f32's bits (for float parameters). */
export function f32Bits(v: number): number {
  return new Uint32Array(Float32Array.of(v).buffer)[0]!;
}

/** Merges dims that are contiguous for every operand, so fewer divisions run per element. */
export function collapse(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j]![last] === s[d]! * size)) {
      outShape[last] = outShape[last]! * size;
      strides.forEach((s, j) => (outStrides[j]![last] = s[d]!));
      continue;
    }
    outShape.push(size);
    strides.forEach((s, j) => outStrides[j]!.push(s[d]!));
  }
  return { shape: outShape, strides: outStrides };
}

/** dtypes as a cache-key fragment. */
export function dtypeKey(dtypes: readonly DType[]): string {
  return dtypes.join(',');
}
