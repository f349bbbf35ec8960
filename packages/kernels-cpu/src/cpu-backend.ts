// The CPU backend: storages are plain typed arrays, and every kernel runs at once on the calling thread.
import type { Backend, DType, Kernel, OpDef, Storage, TypedArray } from '@tessera/tensor';
import { allocTyped, dtypeBytes } from '@tessera/tensor';
import type { CpuKernel } from './cpu-kernel.js';
import { CPU_KERNELS } from './registry.js';

/** Options for `createCpuBackend`. */
export interface CpuBackendOptions {
  /** Backend name (default `cpu`); a second CPU backend under another name helps tests. */
  readonly name?: string;
  /** Kernels to add or override, keyed by op. */
  readonly kernels?: ReadonlyMap<OpDef, CpuKernel>;
}

const COMPUTE_DTYPES: ReadonlySet<DType> = new Set<DType>(['f32', 'f64', 'i32', 'u32', 'u8', 'bool']);

/** Creates the CPU backend: typed-array storage plus a kernel for every primitive of @tessera/tensor. */
export function createCpuBackend(opts: CpuBackendOptions = {}): Backend {
  const kernels = new Map<OpDef, Kernel>();
  const wrap = (cpu: CpuKernel): Kernel => (inputs, attrs, out) => storageOf(out.dtype, cpu(inputs, attrs, out));
  const backend: Backend = {
    name: opts.name ?? 'cpu',
    kernels,
    computeDtypes: COMPUTE_DTYPES,
    upload: (dtype, data) => storageOf(dtype, copyTyped(dtype, data)),
    read: async (storage) => dataOfStorage(storage),
    readSync: (storage) => dataOfStorage(storage),
    free: (storage) => {
      // Drop the array so a tensor kept past its disposal fails loudly instead of reading stale data.
      (storage as { data: unknown }).data = null;
    },
    sync: async () => {},
  };
  function storageOf(dtype: DType, data: TypedArray): Storage {
    return { backend, dtype, size: data.length, byteLength: data.length * dtypeBytes(dtype), data, refs: 0 };
  }
  for (const [op, kernel] of CPU_KERNELS) kernels.set(op, wrap(kernel));
  for (const [op, kernel] of opts.kernels ?? []) kernels.set(op, wrap(kernel));
  return backend;
}

function copyTyped(dtype: DType, data: TypedArray): TypedArray {
  const out = allocTyped(dtype, data.length);
  out.set(data);
  return out;
}

function dataOfStorage(storage: Storage): TypedArray {
  const data = storage.data as TypedArray | null;
  if (data === null) throw new Error(`cpu: storage of ${storage.size} ${storage.dtype} elements was already freed`);
  return data;
}
