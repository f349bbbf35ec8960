import type { DType, TypedArray } from './dtype.js';
import type { OpDef } from './op.js';
import type { Shape } from './shape.js';

/** A backend-owned block of elements; tensors are strided views onto one. Reference counted. */
export interface Storage {
  readonly backend: Backend;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  readonly byteLength: number;
  /** Backend-specific handle: a typed array on the CPU, a GPU buffer on WebGPU. */
  readonly data: unknown;
  /** How many live tensors view this storage; it is freed when this reaches zero. */
  refs: number;
}

/** What a kernel sees of an input: its storage and the strided layout over it (in elements). */
export interface TensorView {
  readonly storage: Storage;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

/** The result a kernel must produce: a new contiguous storage of this shape and dtype. */
export interface OutputSpec {
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * A kernel computes one op on one backend. Inputs may be strided, transposed or broadcast (stride 0);
 * the output is always a fresh contiguous storage.
 */
export type Kernel<A = any> = (inputs: readonly TensorView[], attrs: A, out: OutputSpec) => Storage;

/** A compute backend: memory plus a kernel for each op it implements, keyed by the op object. */
export interface Backend {
  readonly name: string;
  readonly kernels: ReadonlyMap<OpDef<any>, Kernel>;
  /** dtypes kernels compute in directly; inputs of other dtypes are cast to f32 around each kernel (except `cast`). */
  readonly computeDtypes: ReadonlySet<DType>;
  /**
   * Ops whose kernels read f16/bf16 inputs directly (converting as they go, e.g. while packing matmul
   * panels), so the dispatcher hands those inputs over as they are instead of casting each to an f32
   * copy first. The output still computes in a compute dtype and is cast from there.
   */
  readonly halfInputs?: ReadonlySet<OpDef<any>>;
  /** A storage holding a copy of these raw elements (f16/bf16 as 16-bit words). */
  upload(dtype: DType, data: TypedArray): Storage;
  /** Reads a whole storage back as raw elements. */
  read(storage: Storage): Promise<TypedArray>;
  /** Optional: reads elements [offset, offset + count) of a storage, so a view of part of a large storage reads only that part. */
  readRange?(storage: Storage, offset: number, count: number): Promise<TypedArray>;
  /** Synchronous read, only where the memory is host memory (the CPU backend). */
  readSync?(storage: Storage): TypedArray;
  /** Releases a storage's memory (called once, when its last tensor is disposed). */
  free(storage: Storage): void;
  /** Resolves when all queued work has finished (no-op on the CPU). */
  sync?(): Promise<void>;
  /**
   * Optional fused AdamW update of one parameter (see adamwStep): returns fresh contiguous storages for
   * the new param, m and v, or null where this backend cannot fuse these inputs (adamwStep then composes
   * ops). Any backend may provide it (WebGPU, a WASM SIMD CPU path); results must equal the composition
   * within f32 rounding.
   */
  adamwUpdate?(param: TensorView, grad: TensorView, m: TensorView, v: TensorView, h: AdamWResolved): { param: Storage; m: Storage; v: Storage } | null;
  /**
   * Optional multi-tensor AdamW (see adamwSteps), as torch's fused/foreach AdamW: updates many
   * parameters in a constant number of dispatches. Returns one entry per item: where its new param, m
   * and v lie (a contiguous block of a storage, which several results may share), or null for an item
   * it cannot fuse (adamwSteps then updates that one alone).
   */
  adamwUpdateMany?(items: readonly AdamWOperands[]): ({ param: StorageBlock; m: StorageBlock; v: StorageBlock } | null)[];
}

/** One parameter's operands of a multi-tensor AdamW update (Backend.adamwUpdateMany). */
export interface AdamWOperands {
  readonly param: TensorView;
  readonly grad: TensorView;
  readonly m: TensorView;
  readonly v: TensorView;
  readonly h: AdamWResolved;
}

/** A contiguous block of elements of a storage, starting at `offset` (a result of adamwUpdateMany). */
export interface StorageBlock {
  readonly storage: Storage;
  readonly offset: number;
}

/** AdamW hyperparameters with defaults applied and bias corrections precomputed (for Backend.adamwUpdate). */
export interface AdamWResolved {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** 1 - beta1^step and 1 - beta2^step. */
  readonly bc1: number;
  readonly bc2: number;
}

const registry = new Map<string, Backend>();
let current: Backend | null = null;

/** Registers a backend by its name (replacing one of the same name); the first registered becomes current. */
export function registerBackend(backend: Backend): Backend {
  registry.set(backend.name, backend);
  if (current === null || current.name === backend.name) current = backend;
  return backend;
}

/** Removes a backend from the registry. */
export function unregisterBackend(name: string): void {
  registry.delete(name);
  if (current?.name === name) current = registry.values().next().value ?? null;
}

/** Makes a registered backend the default for new tensors. */
export function setBackend(name: string): Backend {
  const backend = registry.get(name);
  if (!backend) {
    throw new Error(
      `setBackend: no backend named "${name}" is registered (registered: ${[...registry.keys()].join(', ') || 'none'}); ` +
        `register it first, e.g. registerBackend(createCpuBackend()) from @tessera/kernels-cpu`,
    );
  }
  current = backend;
  return backend;
}

/** The backend named, or the current default one. */
export function getBackend(name?: string): Backend {
  if (name !== undefined) {
    const backend = registry.get(name);
    if (!backend) return setBackendError(name);
    return backend;
  }
  if (!current) {
    throw new Error(
      'No backend is registered; call registerBackend(createCpuBackend()) from @tessera/kernels-cpu ' +
        '(or another kernels package) before creating tensors',
    );
  }
  return current;
}

function setBackendError(name: string): never {
  throw new Error(
    `No backend named "${name}" is registered (registered: ${[...registry.keys()].join(', ') || 'none'}); ` +
      'register it with registerBackend(...) first',
  );
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...registry.keys()];
}
