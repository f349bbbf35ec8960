// The WebGPU backend: storages are pooled GPU buffers, kernels record dispatches into the open
// batch of a GpuContext, and reads map a staging copy asynchronously.
import { allocTyped, dtypeBytes, type Backend, type DType, type Kernel, type OpDef, type Storage } from '@tessera/tensor';
import { BindingLimitError } from './binding-window.js';
import { acquireDevice, type AdapterInfo, type DeviceOptions } from './device.js';
import { GpuContext } from './gpu-context.js';
import { captureIndexErrors } from './index-bounds.js';
import type { GpuKernel } from './gpu-kernel.js';
import { adamwUpdateBuffers } from './kernels/adamw.js';
import { adamwUpdateMany } from './kernels/adamw-many.js';
import { castBuffer } from './kernels/cast.js';
import { WEBGPU_KERNELS, WIDENED_OUTPUT } from './registry.js';
import { isPacked, storageBytes, widened } from './wgsl/dtype-io.js';

/** Options for `createWebGpuBackend`. */
export interface WebGpuBackendOptions extends DeviceOptions {
  /** Backend name (default `webgpu`). */
  readonly name?: string;
  /** Kernels to add or override (fused composites, tests), keyed by op. */
  readonly kernels?: ReadonlyMap<OpDef, GpuKernel>;
  /**
   * Largest binding kernels may make, below the device's maxStorageBufferBindingSize (which WebGPU
   * will not lower): tests set it small to exercise binding windows on small tensors.
   */
  readonly bindingLimitBytes?: number;
}

/** The WebGPU backend plus what only it has: its context, memory statistics and teardown. */
export interface WebGpuBackend extends Backend {
  readonly context: GpuContext;
  readonly adapterName: string;
  readonly adapterInfo: AdapterInfo;
  /** Bytes of GPU buffers pooled for reuse and handed out to live storages. */
  memory(): { pooledBytes: number; liveBytes: number };
  /** Releases the device (every storage of this backend becomes invalid). */
  destroy(): void;
}

// f64 is not computed on the GPU (WGSL has no f64): the dispatcher casts it to f32 around kernels.
const COMPUTE_DTYPES: ReadonlySet<DType> = new Set<DType>(['f32', 'f16', 'bf16', 'i32', 'u32', 'u8', 'bool']);

/** Creates the WebGPU backend: acquires a device and registers a kernel for every primitive. */
export async function createWebGpuBackend(opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const { device, adapterName, adapterInfo, features } = await acquireDevice(opts);
  const ctx = new GpuContext(device, adapterName, features, opts.bindingLimitBytes);
  const kernels = new Map<OpDef, Kernel>();
  const backend: WebGpuBackend = {
    name: opts.name ?? 'webgpu',
    kernels,
    computeDtypes: COMPUTE_DTYPES,
    context: ctx,
    adapterName,
    adapterInfo,
    upload: (dtype, data) => {
      const bytes = storageBytes(dtype, data.length);
      const buffer = ctx.acquire(bytes);
      const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      // writeBuffer wants whole words; pad the tail of packed dtypes.
      const padded = src.byteLength % 4 === 0 ? src : copyPadded(src, bytes);
      if (padded.byteLength > 0) device.queue.writeBuffer(buffer, 0, padded as Uint8Array<ArrayBuffer>);
      return storageOf(dtype, data.length, buffer);
    },
    read: async (storage) => {
      const out = allocTyped(storage.dtype, storage.size);
      if (out.byteLength === 0) return out;
      // The index checks' record rides in the same submit as the data and is mapped concurrently.
      const indexErrors = captureIndexErrors(ctx);
      const [bytes] = await Promise.all([ctx.read(bufferOfStorage(storage), 0, out.byteLength), indexErrors?.()]);
      new Uint8Array(out.buffer).set(new Uint8Array(bytes));
      return out;
    },
    readRange: async (storage, offset, count) => {
      // Whole words only: dtypes packed several to a word (f16, u8) read the whole storage and cut.
      if (dtypeBytes(storage.dtype) % 4 !== 0) return (await backend.read(storage)).slice(offset, offset + count);
      const out = allocTyped(storage.dtype, count);
      if (out.byteLength === 0) return out;
      const indexErrors = captureIndexErrors(ctx);
      const bytesPer = dtypeBytes(storage.dtype);
      const [bytes] = await Promise.all([ctx.read(bufferOfStorage(storage), offset * bytesPer, out.byteLength), indexErrors?.()]);
      new Uint8Array(out.buffer).set(new Uint8Array(bytes));
      return out;
    },
    free: (storage) => {
      ctx.release(bufferOfStorage(storage));
      (storage as { data: unknown }).data = null;
    },
    sync: async () => {
      const indexErrors = captureIndexErrors(ctx);
      await ctx.sync();
      await indexErrors?.();
    },
    adamwUpdate: (param, grad, m, v, h) => {
      const r = adamwUpdateBuffers(ctx, param, grad, m, v, h);
      if (!r) return null;
      const size = param.shape.reduce((a, b) => a * b, 1);
      return { param: storageOf('f32', size, r.param), m: storageOf('f32', size, r.m), v: storageOf('f32', size, r.v) };
    },
    adamwUpdateMany: (items) => {
      // One storage per group arena, shared by the m and v views of all its parameters.
      const arenas = new Map<GPUBuffer, Storage>();
      return adamwUpdateMany(ctx, items).map((r, i) => {
        if (!r) return null;
        let arena = arenas.get(r.arena.buffer);
        if (!arena) arenas.set(r.arena.buffer, (arena = storageOf('f32', r.arena.size, r.arena.buffer)));
        const size = items[i]!.param.shape.reduce((a, b) => a * b, 1);
        return { param: { storage: storageOf('f32', size, r.param), offset: 0 }, m: { storage: arena, offset: r.m }, v: { storage: arena, offset: r.v } };
      });
    },
    memory: () => ctx.memory(),
    destroy: () => {
      ctx.flush();
      ctx.storagePool.trim();
      device.destroy();
    },
  };
  function storageOf(dtype: DType, size: number, buffer: GPUBuffer): Storage {
    return { backend, dtype, size, byteLength: size * dtypeBytes(dtype), data: buffer, refs: 0 };
  }
  const wrap =
    (op: OpDef, kernel: GpuKernel): Kernel =>
    (inputs, attrs, out) => {
      const size = out.shape.reduce((a, b) => a * b, 1);
      try {
        if (WIDENED_OUTPUT.has(op) && isPacked(out.dtype)) {
          const wide = widened(out.dtype);
          const tmp = kernel(ctx, inputs, attrs, { shape: out.shape, dtype: wide });
          const packed = castBuffer(ctx, tmp, wide, out.dtype, size);
          ctx.release(tmp);
          return storageOf(out.dtype, size, packed);
        }
        return storageOf(out.dtype, size, kernel(ctx, inputs, attrs, out));
      } catch (err) {
        // Name the op and the shapes: the kernel only knows the binding it could not make.
        if (!(err instanceof BindingLimitError)) throw err;
        const shapes = inputs.map((v) => `[${v.shape.join(',')}] ${v.dtype}`).join(', ');
        throw new BindingLimitError(`${op.name} on ${backend.name} (inputs ${shapes}; output [${out.shape.join(',')}] ${out.dtype}): ${err.message}`);
      }
    };
  for (const [op, kernel] of WEBGPU_KERNELS) kernels.set(op, wrap(op, kernel));
  for (const [op, kernel] of opts.kernels ?? []) kernels.set(op, wrap(op, kernel));
  return backend;
}

function bufferOfStorage(storage: Storage): GPUBuffer {
  const buffer = storage.data as GPUBuffer | null;
  if (buffer === null) throw new Error(`webgpu: storage of ${storage.size} ${storage.dtype} elements was already freed`);
  return buffer;
}

function copyPadded(src: Uint8Array, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set(src);
  return out;
}

