import type { Storage } from './backend.js';
import type { Tensor } from './tensor.js';

// GPU memory is invisible to the garbage collector, so tensors are disposed explicitly; scopes
// (tidy) do it in bulk. A FinalizationRegistry releases storages of tensors that were dropped
// without dispose, as a safety net only.

interface BackendUsage {
  numTensors: number;
  /**
   * Tensors created and not yet disposed, counting those the garbage collector has released: what
   * leak checks compare. Unlike `numTensors` it does not drop when the collector gets to tensors an
   * earlier piece of code forgot, at a moment nobody controls.
   */
  numUndisposed: number;
  numBytes: number;
  numStorages: number;
}

const usage = new Map<string, BackendUsage>();
let liveBytes = 0;
let peakBytes = 0;
const scopes: Set<Tensor>[] = [];

function usageOf(backend: string): BackendUsage {
  let u = usage.get(backend);
  if (!u) usage.set(backend, (u = { numTensors: 0, numUndisposed: 0, numBytes: 0, numStorages: 0 }));
  return u;
}

/** Takes a reference on a storage, counting its bytes when it becomes live. */
function retainStorage(storage: Storage): void {
  if (storage.refs === 0) {
    const u = usageOf(storage.backend.name);
    u.numBytes += storage.byteLength;
    u.numStorages++;
    liveBytes += storage.byteLength;
    if (liveBytes > peakBytes) peakBytes = liveBytes;
  }
  storage.refs++;
}

function releaseStorage(storage: Storage): void {
  storage.refs--;
  if (storage.refs === 0) {
    const u = usageOf(storage.backend.name);
    u.numBytes -= storage.byteLength;
    u.numStorages--;
    liveBytes -= storage.byteLength;
    storage.backend.free(storage);
  }
}

const finalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<Storage>((storage) => {
        usageOf(storage.backend.name).numTensors--;
        releaseStorage(storage);
      })
    : null;

/** Called by the Tensor constructor: counts the tensor, takes a reference on its storage, tracks it in the open scope. */
export function trackTensor(t: Tensor, storage: Storage): void {
  retainStorage(storage);
  const u = usageOf(storage.backend.name);
  u.numTensors++;
  u.numUndisposed++;
  finalizer?.register(t, storage, t);
  const scope = scopes[scopes.length - 1];
  if (scope) scope.add(t);
}

/** Called by `Tensor.assign`: moves the tensor's reference from one storage to another. */
export function swapStorage(t: Tensor, from: Storage, to: Storage): void {
  retainStorage(to);
  finalizer?.unregister(t);
  finalizer?.register(t, to, t);
  releaseStorage(from);
}

/** Called by `Tensor.dispose`: drops the tensor's reference on its storage. */
export function untrackTensor(t: Tensor, storage: Storage): void {
  finalizer?.unregister(t);
  const u = usageOf(storage.backend.name);
  u.numTensors--;
  u.numUndisposed--;
  releaseStorage(storage);
  for (const scope of scopes) scope.delete(t);
}

/** What is alive now: tensors and bytes, in total and per backend. */
export interface MemoryInfo {
  numTensors: number;
  /** Tensors created and not yet disposed, on all backends (see `BackendUsage.numUndisposed`). */
  numUndisposed: number;
  numBytes: number;
  /** Most bytes alive at once since the last `resetPeakMemory()` (all backends). */
  peakBytes: number;
  backends: Record<string, BackendUsage>;
}

/** Live tensors and bytes, in total and per backend. */
export function memory(): MemoryInfo {
  const backends: Record<string, BackendUsage> = {};
  let numTensors = 0;
  let numUndisposed = 0;
  let numBytes = 0;
  for (const [name, u] of usage) {
    backends[name] = { ...u };
    numTensors += u.numTensors;
    numUndisposed += u.numUndisposed;
    numBytes += u.numBytes;
  }
  return { numTensors, numUndisposed, numBytes, peakBytes, backends };
}

/** Starts a new peak measurement from the bytes alive now. */
export function resetPeakMemory(): void {
  peakBytes = liveBytes;
}

/** Collects every tensor reachable in a returned value (arrays, plain objects, maps). */
function collectTensors(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor): void {
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out, isTensor);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, out, isTensor);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, isTensor);
  }
}

let isTensorFn: ((v: unknown) => v is Tensor) | null = null;
/** @internal Lets the Tensor module tell memory scopes how to recognise tensors without an import cycle. */
export function setTensorCheck(fn: (v: unknown) => v is Tensor): void {
  isTensorFn = fn;
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns (also inside arrays and
 * plain objects) and those passed to `keep`. Returned tensors move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new Error('tidy: the function returned a Promise; tidy only supports synchronous functions (await outside of it)');
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, isTensorFn!);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Exempts a tensor from disposal by every enclosing `tidy` scope; returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

/** Disposes tensors found in a value (a tensor, arrays or objects of them). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(value, found, isTensorFn!);
  for (const t of found) t.dispose();
}

/**
 * A scope for `using`: `using scope = memoryScope()` disposes every tensor created while it is
 * open when the block ends, except those passed to `scope.keep`.
 */
export function memoryScope(): { keep<T extends Tensor>(t: T): T; [Symbol.dispose](): void } {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  return {
    keep<T extends Tensor>(t: T): T {
      scope.delete(t);
      const idx = scopes.indexOf(scope);
      if (idx > 0) scopes[idx - 1]!.add(t);
      return t;
    },
    [Symbol.dispose]() {
      const idx = scopes.lastIndexOf(scope);
      if (idx >= 0) scopes.splice(idx, 1);
      for (const t of scope) t.dispose();
    },
  };
}
