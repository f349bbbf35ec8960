// The gpu.js backend: storages are handles on gpu.js pipeline results (textures on WebGL, storage
// buffers on WebGPU, typed arrays in cpu mode) holding f32 values, which stay on the device between
// ops and are deleted when their last tensor is disposed.
import { allocTyped, bf16ToF32, dtypeBytes, f16ToF32, f32ToBf16, f32ToF16, type Backend, type DType, type Kernel, type OpDef, type Storage, type TypedArray } from '@tessera/tensor';
import { GpuJsContext, type GpuJsMode, type Handle } from './gpujs-context.js';
import { checkElementCount, checkExactInteger } from './exact-integers.js';
import { handleOfStorage, type GpuJsKernel } from './gpujs-kernel.js';
import { adamwUpdateHandles } from './kernels/adamw.js';
import { raiseIndexErrors } from './index-bounds.js';
import { GpuJsUnsupportedError } from './kernel-source.js';
import { checkSinglePrecision } from './precision-check.js';
import { GPUJS_KERNELS } from './registry.js';

/** Options for `createGpuJsBackend`. */
export interface GpuJsBackendOptions {
  /** The gpu.js mode (default `gpu`: gpu.js picks WebGL2, then WebGL, in a browser). */
  readonly mode?: GpuJsMode;
  /** Backend name (default `gpujs`). */
  readonly name?: string;
  /** Kernels to add or override, keyed by op. */
  readonly kernels?: ReadonlyMap<OpDef, GpuJsKernel>;
  /**
   * Texture precision asked of gpu.js (default 'single'). 'unsigned' (8-bit packing) is always
   * refused by the precision check; it exists so that refusal can be exercised on a real device.
   */
  readonly precision?: 'single' | 'unsigned';
}

/** The gpu.js backend plus what only it has: its context, the mode gpu.js runs in, memory and teardown. */
export interface GpuJsBackend extends Backend {
  readonly context: GpuJsContext;
  /** The mode kernels actually run in (`webgl2`, `webgl`, `webgpu`, `cpu`, `webasm`). */
  readonly mode: string;
  /**
   * Live handles and the bytes of f32 values they hold: every tensor's storage, plus the result of
   * each index check still waiting for the next read or sync (one handle of 2 values, 8 bytes, per
   * gather, scatterAdd or crossEntropy launched since; index-bounds.ts frees it there).
   */
  memory(): { liveHandles: number; liveBytes: number };
  /** Releases every kernel and the gpu.js instance. */
  destroy(): void;
}

// Every dtype is stored as f32 values and computed in f32: the dispatcher casts around kernels.
const COMPUTE_DTYPES: ReadonlySet<DType> = new Set<DType>(['f32']);

/**
 * Creates the gpu.js backend. In WebGPU mode a `navigator.gpu` must exist (in Node, from the `webgpu`
 * package: see the README). Refuses a device that would compute in half precision.
 */
export async function createGpuJsBackend(opts: GpuJsBackendOptions = {}): Promise<GpuJsBackend> {
  const mode = opts.mode ?? 'gpu';
  if (mode === 'webgpu' && (typeof navigator === 'undefined' || !(navigator as { gpu?: unknown }).gpu)) {
    throw new Error("gpujs: mode 'webgpu' needs navigator.gpu; in Node provide it from the `webgpu` package (see @tessera/kernels-gpujs README), or use mode 'cpu'");
  }
  const ctx = new GpuJsContext(mode, opts.precision);
  await checkSinglePrecision(ctx);
  const kernels = new Map<OpDef, Kernel>();
  const name = opts.name ?? 'gpujs';
  const backend: GpuJsBackend = {
    name,
    kernels,
    computeDtypes: COMPUTE_DTYPES,
    context: ctx,
    get mode() {
      return ctx.actualMode;
    },
    upload: (dtype, data) => {
      // Checked before the f32 copy is made (the context checks again, for its other callers).
      checkElementCount(`upload to ${name}: the ${dtype} tensor`, data.length);
      return storageOf(dtype, ctx.upload(toValues(dtype, data, name)));
    },
    read: async (storage) => {
      const values = await ctx.read(handleOfStorage(storage));
      // Out-of-range gather/scatterAdd indices recorded since the last read surface here (index-bounds.ts).
      await raiseIndexErrors(ctx);
      return fromValues(storage.dtype, values);
    },
    free: (storage) => {
      ctx.free(handleOfStorage(storage));
      (storage as { data: unknown }).data = null;
    },
    sync: async () => {
      await ctx.sync();
      await raiseIndexErrors(ctx);
    },
    adamwUpdate: (param, grad, m, v, h) => {
      const r = adamwUpdateHandles(ctx, param, grad, m, v, h);
      return r === null ? null : { param: storageOf('f32', r.param), m: storageOf('f32', r.m), v: storageOf('f32', r.v) };
    },
    memory: () => ({ liveHandles: ctx.counters.liveHandles, liveBytes: ctx.counters.liveBytes }),
    destroy: () => ctx.destroy(),
  };
  function storageOf(dtype: DType, handle: Handle): Storage {
    return { backend, dtype, size: handle.size, byteLength: handle.size * dtypeBytes(dtype), data: handle, refs: 0 };
  }
  const wrap =
    (op: OpDef, kernel: GpuJsKernel): Kernel =>
    (inputs, attrs, out) => {
      try {
        return storageOf(out.dtype, kernel(ctx, inputs, attrs, out));
      } catch (err) {
        if (!(err instanceof GpuJsUnsupportedError)) throw err;
        const shapes = inputs.map((v) => `[${v.shape.join(',')}] ${v.dtype}`).join(', ');
        throw new GpuJsUnsupportedError(`${op.name} on ${name} (inputs ${shapes}; output [${out.shape.join(',')}] ${out.dtype}): ${err.message}`);
      }
    };
  for (const [op, kernel] of GPUJS_KERNELS) kernels.set(op, wrap(op, kernel));
  for (const [op, kernel] of opts.kernels ?? []) kernels.set(op, wrap(op, kernel));
  return backend;
}

/** Raw elements of `dtype` as the f32 values a storage holds. */
function toValues(dtype: DType, data: TypedArray, backendName: string): Float32Array {
  const n = data.length;
  const out = new Float32Array(n);
  if (dtype === 'f16' || dtype === 'bf16') {
    const decode = dtype === 'f16' ? f16ToF32 : bf16ToF32;
    for (let i = 0; i < n; i++) out[i] = decode(data[i]!);
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = data[i]!;
  if (dtype === 'i32' || dtype === 'u32') {
    for (let i = 0; i < n; i++) checkExactInteger(`upload to ${backendName}`, dtype, data[i]!, ` at element ${i}`);
  }
  return out;
}

/** f32 values back to raw elements of `dtype` (f16/bf16 round to nearest even; integers truncate and wrap). */
function fromValues(dtype: DType, values: Float32Array): TypedArray {
  if (dtype === 'f32') return values;
  const out = allocTyped(dtype, values.length);
  if (dtype === 'f16' || dtype === 'bf16') {
    const encode = dtype === 'f16' ? f32ToF16 : f32ToBf16;
    for (let i = 0; i < values.length; i++) out[i] = encode(values[i]!);
  } else if (dtype === 'f64') {
    out.set(values);
  } else if (dtype === 'bool') {
    for (let i = 0; i < values.length; i++) out[i] = values[i] !== 0 ? 1 : 0;
  } else {
    for (let i = 0; i < values.length; i++) out[i] = Math.trunc(values[i]!);
  }
  return out;
}
