import { getBackend, type Storage, type TensorView } from './backend.js';
import { allocTyped, isFloat, toNumbers, type DType, type TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import type { GradNode } from './grad-mode.js';
import { setTensorCheck, swapStorage, trackTensor, untrackTensor } from './memory.js';
import * as ops from './ops/index.js';
import { contiguousStrides, isContiguous, numel, type Shape } from './shape.js';

let nextId = 1;

/** Values a tensor reads back as: floats as Float32Array/Float64Array (f16/bf16 widened to f32), others as their typed array. */
export type DataOf = TypedArray;

/** A nested array of numbers, as `array()` returns and `tensor()` accepts. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An n-dimensional array on a backend: a strided view (shape, strides, offset in elements) onto a
 * reference-counted storage. Ops return new tensors synchronously; reading values back is async.
 */
export class Tensor implements TensorView {
  /** A process-unique id, handy in graphs and debug output. */
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** Whether gradients are tracked for this tensor (set on parameters; propagated by ops). */
  requiresGrad = false;
  /** The accumulated gradient, filled by `backward` on tensors that require grad and have no grad node. */
  grad: Tensor | null = null;
  /** @internal The op that produced this tensor, recorded while gradients are on. */
  gradNode: GradNode | null = null;
  #storage: Storage;
  #disposed = false;

  /** @internal Tensors are made by ops and creation functions, not with `new`. */
  constructor(storage: Storage, shape: Shape, strides: readonly number[], offset: number, dtype: DType) {
    this.#storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze([...strides]);
    this.offset = offset;
    this.dtype = dtype;
    trackTensor(this, storage);
  }

  /** The storage this tensor views. */
  get storage(): Storage {
    return this.#storage;
  }
  /** Name of the backend holding the data. */
  get device(): string {
    return this.#storage.backend.name;
  }
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
  /** True once `dispose()` has run. */
  get isDisposed(): boolean {
    return this.#disposed;
  }
  /** True when the elements are dense and row-major in storage. */
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  /** True for a tensor that requires grad and was not produced by a recorded op (a parameter). */
  get isLeaf(): boolean {
    return this.gradNode === null;
  }

  /** Releases this tensor's reference on its storage. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // The grad node stays: cutting the graph here would turn a use-after-dispose into silently
    // missing gradients; backward instead reports the disposed input by name.
    untrackTensor(this, this.#storage);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Replaces this tensor's values with `src`'s (same shape and dtype) by taking over its memory: no
   * copy when `src` is dense. The object stays the same, so modules and optimizers that hold it see
   * the new values; it stays a leaf. How optimizers update parameters.
   */
  assign(src: Tensor): this {
    this.assertAlive('assign');
    if (src.dtype !== this.dtype || src.rank !== this.rank || src.shape.some((d, i) => d !== this.shape[i])) {
      throw new TypeError(
        `assign: source [${src.shape.join(',')}] ${src.dtype} must match the target [${this.shape.join(',')}] ${this.dtype}; reshape or cast it first`,
      );
    }
    if (!this.isContiguous || this.offset !== 0 || this.#storage.size !== this.size) {
      throw new Error(`assign: the target (shape [${this.shape.join(',')}]) is a view into a larger storage; assign only to whole tensors`);
    }
    const dense = src.isContiguous && src.offset === 0 && src.storage.size === src.size ? src : ops.clone(src);
    if (dense.storage !== this.#storage) {
      const old = this.#storage;
      this.#storage = dense.storage;
      swapStorage(this, old, dense.storage);
      (this as { strides: readonly number[] }).strides = Object.freeze(contiguousStrides(this.shape));
    }
    if (dense !== src) dense.dispose();
    this.gradNode = null;
    return this;
  }

  /** Marks this tensor as requiring gradients (PyTorch's `requires_grad_`); returns it. */
  requiresGrad_(on = true): this {
    if (on && !isFloat(this.dtype)) {
      throw new TypeError(`requiresGrad_: only floating-point tensors can require gradients (got ${this.dtype}); cast first`);
    }
    this.requiresGrad = on;
    return this;
  }

  /** The elements in row-major order (f16/bf16 widened to Float32Array). */
  async data(): Promise<DataOf> {
    this.assertAlive('data');
    const backend = this.#storage.backend;
    // A contiguous view of part of a larger storage (an optimizer-state arena) reads only its part.
    if (backend.readRange && this.isContiguous && this.size > 0 && this.size < this.#storage.size) {
      return gatherLogical(this, await backend.readRange(this.#storage, this.offset, this.size), 0);
    }
    const raw = await backend.read(this.#storage);
    return gatherLogical(this, raw);
  }

  /** Synchronous `data()`, only for backends whose memory is host memory (the CPU). */
  dataSync(): DataOf {
    this.assertAlive('dataSync');
    const backend = this.#storage.backend;
    if (!backend.readSync) {
      throw new Error(`dataSync: the ${backend.name} backend cannot read synchronously; use await tensor.data()`);
    }
    return gatherLogical(this, backend.readSync(this.#storage));
  }

  /** The elements as nested arrays (booleans for bool tensors). */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape, this.dtype === 'bool');
  }

  /** The single element of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new RangeError(`item: tensor has ${this.size} elements (shape [${this.shape.join(',')}]); expected exactly 1`);
    return (await this.data())[0]!;
  }

  /** Prints like PyTorch: values (elided in the middle), shape, dtype and device. */
  toString(): string {
    if (this.#disposed) return `tensor(<disposed>, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
    const backend = this.#storage.backend;
    const values = backend.readSync ? this.dataSync() : null;
    return formatTensor(this, values);
  }

  private assertAlive(where: string): void {
    if (this.#disposed) throw new Error(`${where}: tensor (shape [${this.shape.join(',')}]) was disposed`);
  }

  // ---- views ----
  /** Same elements, new shape (one dim may be -1); copies only when the layout cannot be viewed. */
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  /** Like reshape, but never copies: a clear error when the layout cannot be viewed. */
  view(shape: readonly number[]): Tensor {
    return ops.view(this, shape);
  }
  /** Reorders dimensions without copying. */
  permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  /** Swaps two dimensions (default the last two) without copying. */
  transpose(a = -2, b = -1): Tensor {
    return ops.transpose(this, a, b);
  }
  /** The transpose of a 2-D tensor (last two dims for batches). */
  get T(): Tensor {
    return ops.transpose(this, -2, -1);
  }
  /** Elements start..end (exclusive, negatives from the end) along an axis, with a step. */
  slice(axis: number, start: number, end?: number, step = 1): Tensor {
    return ops.slice(this, axis, start, end, step);
  }
  /** `length` elements from `start` along an axis. */
  narrow(axis: number, start: number, length: number): Tensor {
    return ops.narrow(this, axis, start, length);
  }
  /** Broadcasts size-1 dims to a larger shape without copying (stride 0); -1 keeps a dim. */
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  /** Removes size-1 dims (all, or the given ones). */
  squeeze(axes?: number | readonly number[]): Tensor {
    return ops.squeeze(this, axes);
  }
  /** Inserts a size-1 dim at `axis`. */
  unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this, axis);
  }
  /** Flattens dims start..end (inclusive) into one. */
  flatten(start = 0, end = -1): Tensor {
    return ops.flatten(this, start, end);
  }
  /** This tensor if already contiguous, else a contiguous copy. */
  contiguous(): Tensor {
    return ops.contiguous(this);
  }
  /** A new tensor sharing storage, cut from the gradient graph. */
  detach(): Tensor {
    return ops.detach(this);
  }
  /** A contiguous copy (differentiable). */
  clone(): Tensor {
    return ops.clone(this);
  }
  /** Converts to another dtype. */
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  /** A copy on another backend (tensors returned have the same dtype and shape). */
  async to(device: string): Promise<Tensor> {
    if (device === this.device) return this;
    const values = await this.contiguous().data();
    return ops.tensorFromTyped(values, this.shape, this.dtype, device);
  }

  // ---- arithmetic ----
  add(other: Tensor | number): Tensor {
    return ops.add(this, other);
  }
  sub(other: Tensor | number): Tensor {
    return ops.sub(this, other);
  }
  mul(other: Tensor | number): Tensor {
    return ops.mul(this, other);
  }
  div(other: Tensor | number): Tensor {
    return ops.div(this, other);
  }
  pow(other: Tensor | number): Tensor {
    return ops.pow(this, other);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  /** Softmax along `axis` (default the last). */
  softmax(axis = -1): Tensor {
    return ops.softmax(this, axis);
  }
  /** Log-softmax along `axis` (default the last). */
  logSoftmax(axis = -1): Tensor {
    return ops.logSoftmax(this, axis);
  }

  // ---- reductions ----
  sum(axes?: number | readonly number[], keepDims = false): Tensor {
    return ops.sum(this, axes, keepDims);
  }
  mean(axes?: number | readonly number[], keepDims = false): Tensor {
    return ops.mean(this, axes, keepDims);
  }
  max(axes?: number | readonly number[], keepDims = false): Tensor {
    return ops.max(this, axes, keepDims);
  }
  min(axes?: number | readonly number[], keepDims = false): Tensor {
    return ops.min(this, axes, keepDims);
  }
  argmax(axis?: number, keepDims = false): Tensor {
    return ops.argmax(this, axis, keepDims);
  }
  /** Variance with Bessel's correction by default (torch.Tensor.var). */
  var(axes?: number | readonly number[], keepDims = false, correction = 1): Tensor {
    return ops.variance(this, axes, keepDims, correction);
  }
}

setTensorCheck((v: unknown): v is Tensor => v instanceof Tensor);

/** Copies a strided view's logical elements out of raw storage into a dense typed array. */
/** t's elements in row-major order from `raw`, its storage's elements from `offset` (t.offset when raw is the whole storage). */
function gatherLogical(t: Tensor, raw: TypedArray, offset = t.offset): DataOf {
  const n = t.size;
  const wide = t.dtype === 'f16' || t.dtype === 'bf16';
  let dense: TypedArray;
  if (t.isContiguous && offset === 0 && raw.length === n) dense = raw.slice();
  else if (t.isContiguous) dense = raw.slice(offset, offset + n);
  else {
    dense = allocTyped(t.dtype, n);
    const rank = t.rank;
    const idx = new Array<number>(rank).fill(0);
    let src = offset;
    for (let i = 0; i < n; i++) {
      dense[i] = raw[src]!;
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        src += t.strides[d]!;
        if (idx[d]! < t.shape[d]!) break;
        src -= t.strides[d]! * t.shape[d]!;
        idx[d] = 0;
      }
    }
  }
  return wide ? Float32Array.from(toNumbers(t.dtype, dense)) : dense;
}

function nest(values: ArrayLike<number>, shape: readonly number[], asBool: boolean): NestedArray {
  if (shape.length === 0) return asBool ? values[0] !== 0 : values[0]!;
  const strides = contiguousStrides(shape);
  const build = (dim: number, offset: number): NestedArray[] => {
    const out: NestedArray[] = [];
    for (let i = 0; i < shape[dim]!; i++) {
      const o = offset + i * strides[dim]!;
      if (dim === shape.length - 1) out.push(asBool ? values[o] !== 0 : values[o]!);
      else out.push(build(dim + 1, o));
    }
    return out;
  };
  return build(0, 0);
}

/** True for Tensor instances. */
export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}

export { getBackend };
