// The CPU backend: storages are plain typed arrays, and every kernel runs at once on the calling thread.
import type { Backend, DType, Kernel, OpDef, Storage, TypedArray } from '@tessera/tensor';
import { OPS, allocTyped, dtypeBytes } from '@tessera/tensor';
import { adamwUpdateArrays } from './adamw-update.js';
import type { CpuKernel } from './cpu-kernel.js';
import { recycleF32 } from './f32-array-pool.js';
import { wasmAttentionKernels } from './kernels/attention-wasm.js';
import { BINARY_KERNELS_TS } from './kernels/binary.js';
import { UNARY_KERNELS_TS } from './kernels/unary.js';
import { sumKernelTs } from './kernels/reduce.js';
import { wasmMatmulKernel } from './kernels/matmul-wasm.js';
import { WASM_SOFTMAX_KERNELS } from './kernels/softmax-wasm.js';
import { MIN_SPLIT_ELEMENTS, rowTaskKernels } from './kernels/row-tasks-threaded.js';
import { CPU_KERNELS } from './registry.js';
import { gemmModule, gemmVariant, type GemmVariant } from './wasm/gemm-module.js';
import { availableThreads } from './wasm/gemm-workers.js';
import { WasmGemm } from './wasm/wasm-gemm.js';

/** Options for `createCpuBackend`. */
export interface CpuBackendOptions {
  /** Backend name (default `cpu`); a second CPU backend under another name helps tests. */
  readonly name?: string;
  /** Kernels to add or override, keyed by op. */
  readonly kernels?: ReadonlyMap<OpDef, CpuKernel>;
  /**
   * Run f32 matmuls and large f32 add/sub/mul/div on the WebAssembly SIMD kernels (default: true
   * where WebAssembly SIMD and shared memory are available; false keeps every op in TypeScript).
   */
  readonly wasm?: boolean;
  /** Threads for large f32 matmuls, the calling thread included (default: the available cores). */
  readonly threads?: number;
  /**
   * The gemm build: 'fma' (relaxed SIMD's fused multiply-add) or 'simd128' (default: the environment
   * variable TESSERA_GEMM_VARIANT, else 'fma' where relaxed SIMD is available; see cpuGemmVariant).
   */
  readonly gemmVariant?: GemmVariant;
  /**
   * Reuse the f32 arrays of freed storages for later results (default true): fewer allocations and
   * garbage collections in a training loop, at the cost of up to 256 MiB of arrays kept per process.
   */
  readonly recycle?: boolean;
  /** Fuse AdamW updates of dense f32 parameters into one pass (default true; false composes them from ops). */
  readonly fusedAdamW?: boolean;
}

const COMPUTE_DTYPES: ReadonlySet<DType> = new Set<DType>(['f32', 'f64', 'i32', 'u32', 'u8', 'bool']);

/** Creates the CPU backend: typed-array storage plus a kernel for every primitive of @tessera/tensor. */
export function createCpuBackend(opts: CpuBackendOptions = {}): Backend {
  const kernels = new Map<OpDef, Kernel>();
  // gather widens only the words it picks (an embedding lookup in a bf16 table); matmul joins below.
  const halfInputs = new Set<OpDef>([OPS.gather]);
  const wrap = (cpu: CpuKernel): Kernel => (inputs, attrs, out) => storageOf(out.dtype, cpu(inputs, attrs, out));
  const backend: Backend = {
    name: opts.name ?? 'cpu',
    kernels,
    computeDtypes: COMPUTE_DTYPES,
    halfInputs,
    upload: (dtype, data) => storageOf(dtype, copyTyped(dtype, data)),
    // A copy: the caller reads it after an await, by which time the storage may be freed and its array recycled.
    read: async (storage) => dataOfStorage(storage).slice(),
    readSync: (storage) => dataOfStorage(storage),
    free: (storage) => {
      if (opts.recycle !== false) recycleF32(storage.data);
      // Drop the array so a tensor kept past its disposal fails loudly instead of reading stale data.
      (storage as { data: unknown }).data = null;
    },
    sync: async () => {},
  };
  if (opts.fusedAdamW !== false) {
    backend.adamwUpdate = (param, grad, m, v, h) => {
      const r = adamwUpdateArrays(param, grad, m, v, h, opts.wasm !== false);
      return r && { param: storageOf('f32', r.param), m: storageOf('f32', r.m), v: storageOf('f32', r.v) };
    };
  }
  function storageOf(dtype: DType, data: TypedArray): Storage {
    return { backend, dtype, size: data.length, byteLength: data.length * dtypeBytes(dtype), data, refs: 0 };
  }
  for (const [op, kernel] of CPU_KERNELS) kernels.set(op, wrap(kernel));
  if (opts.wasm !== false && gemmModule() !== null) {
    // Created on first use: a backend that never multiplies large f32 matrices allocates no memory or threads.
    let engine: WasmGemm | null = null;
    const threads = opts.threads ?? availableThreads();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`createCpuBackend: threads must be a positive integer (got ${opts.threads}); omit it to use every core`);
    }
    const variant = opts.gemmVariant ?? gemmVariant();
    if (gemmModule(variant) === null) {
      throw new Error(`createCpuBackend: gemmVariant '${variant}' needs WebAssembly relaxed SIMD, which this engine does not accept; pass gemmVariant: 'simd128' (or set TESSERA_GEMM_VARIANT=simd128)`);
    }
    const gemm = (): WasmGemm => (engine ??= new WasmGemm(threads, undefined, variant));
    GEMM_VARIANTS.set(backend, variant);
    GEMM_ENGINES.set(backend, gemm);
    kernels.set(OPS.matmul, wrap(wasmMatmulKernel(gemm)));
    // The gemm widens f16/bf16 operands while packing them: a frozen half-precision weight is never copied to f32.
    halfInputs.add(OPS.matmul);
    for (const [op, kernel] of wasmAttentionKernels(gemm)) kernels.set(op, wrap(kernel));
    for (const [op, kernel] of WASM_SOFTMAX_KERNELS) kernels.set(op, wrap(kernel));
    // GELU, layerNorm, rmsNorm and the cross-entropy gradient on every thread for dense f32 operands (the
    // kernels above or in the registry otherwise).
    const fallbacks = new Map<OpDef, CpuKernel>([...CPU_KERNELS, ...WASM_SOFTMAX_KERNELS]);
    const split = { gemm, minElements: MIN_SPLIT_ELEMENTS, fallback: (op: OpDef) => fallbacks.get(op)!, adaptive: true };
    for (const [op, kernel] of rowTaskKernels(split)) kernels.set(op, wrap(kernel));
  } else if (opts.wasm === false) {
    for (const [op, kernel] of [...BINARY_KERNELS_TS, ...UNARY_KERNELS_TS]) kernels.set(op, wrap(kernel));
    kernels.set(OPS.sum, wrap(sumKernelTs));
  } else if (opts.wasm === true) {
    throw new Error('createCpuBackend: wasm: true, but WebAssembly SIMD with shared memory is not available here; omit the option to fall back to the TypeScript kernels');
  }
  for (const [op, kernel] of opts.kernels ?? []) {
    kernels.set(op, wrap(kernel));
    // A kernel given here reads what the dispatcher gives every kernel: f32, never half words.
    halfInputs.delete(op);
  }
  return backend;
}

/** Each CPU backend's gemm engine (created on first use), for the thread functions below. */
const GEMM_ENGINES = new WeakMap<Backend, () => WasmGemm>();

/**
 * Starts a CPU backend's gemm worker threads and resolves with the threads large products will use
 * (1 without WebAssembly, with `threads: 1`, or on a page's main thread). In a browser, call it from the
 * worker that runs the backend and await it before the heavy work: Web Workers only start while their
 * parent is idle, and until they have, products run on the calling thread alone. In Node it is optional.
 */
export async function whenCpuThreadsReady(backend: Backend): Promise<number> {
  const gemm = GEMM_ENGINES.get(backend);
  return gemm ? gemm().whenReady() : 1;
}

/** Each CPU backend's gemm build, chosen when the backend was created. */
const GEMM_VARIANTS = new WeakMap<Backend, GemmVariant>();

/** The gemm build a CPU backend's matmuls run ('fma' or 'simd128'), or null when it has no WebAssembly gemm (wasm: false). */
export function cpuGemmVariant(backend: Backend): GemmVariant | null {
  return GEMM_VARIANTS.get(backend) ?? null;
}

/** How many gemm slices each thread of a CPU backend has run (index 0: the calling thread); for diagnostics and tests. */
export function cpuThreadJobs(backend: Backend): number[] {
  return GEMM_ENGINES.get(backend)?.().jobsPerThread() ?? [];
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
