// Recycles the Float32Arrays of freed CPU storages as results of later kernels. A training step
// allocates the same sizes every step (activations, gradients, optimizer state), and fresh arrays
// of megabytes each kept the garbage collector busy for ~13% of the step. Arrays return here only
// from Backend.free, which runs once the last tensor of a storage is disposed (or collected); no
// reader can see them afterwards: the backend's async `read` returns a copy, and dataSync() copies
// `readSync`'s array before returning. Only kernels that write every element of their result
// take arrays from here, because a recycled array holds stale values.
// Large arrays come from the shared WebAssembly memory's arena (wasm/f32-arena.ts) once a gemm engine
// exists, so products and attention read and write them in place; they go back there by identity.
import { allocTyped, type DType, type TypedArray } from '@tessera/tensor';
import { arenaRelease, arenaTake } from './wasm/f32-arena.js';

/** Arrays below this many elements are left to the young-generation collector, which handles them cheaply. */
const MIN_ELEMENTS = 1024;
/** Bytes the pool may hold; arrays freed beyond it are dropped (left to the collector). */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;

const buckets = new Map<number, Float32Array[]>();
let pooledBytes = 0;

/** A Float32Array of `n` elements with arbitrary contents: the caller must write every element. */
export function takeF32(n: number): Float32Array {
  if (n >= MIN_ELEMENTS) {
    const block = arenaTake(n);
    if (block !== null) return block;
    const a = buckets.get(n)?.pop();
    if (a !== undefined) {
      pooledBytes -= a.byteLength;
      return a;
    }
  }
  return new Float32Array(n);
}

/** A result array of `dtype` and `n` elements whose every element the caller writes (f32 ones may be recycled). */
export function resultArray(dtype: DType, n: number): TypedArray {
  return dtype === 'f32' ? takeF32(n) : allocTyped(dtype, n);
}

/** Offers a freed storage's array for reuse (arrays that are not whole f32 buffers of pooled size are ignored). */
export function recycleF32(data: unknown): void {
  if (!(data instanceof Float32Array) || data.length < MIN_ELEMENTS || arenaRelease(data)) return;
  // A view into a larger or shared buffer (WebAssembly memory, a subarray) is never whole: leave it alone.
  if (data.byteOffset !== 0 || data.buffer.byteLength !== data.byteLength || !(data.buffer instanceof ArrayBuffer)) return;
  if (pooledBytes + data.byteLength > MAX_POOLED_BYTES) return;
  let bucket = buckets.get(data.length);
  if (bucket === undefined) buckets.set(data.length, (bucket = []));
  bucket.push(data);
  pooledBytes += data.byteLength;
}

/** Drops every pooled array (for tests, or to hand the memory back to the collector). */
export function clearF32Pool(): void {
  buckets.clear();
  pooledBytes = 0;
}

/** Bytes currently pooled (plain arrays; the arena counts its own blocks: arenaStats). */
export function pooledF32Bytes(): number {
  return pooledBytes;
}
