import { getBackend } from '../backend.js';
import { assertDType, fromNumbers, isFloat, type DType, type TypedArray } from '../dtype.js';
import { apply, defineOp } from '../op.js';
import { defaultGenerator, type Generator, type RandomKind, type RandomStream } from '../random.js';
import { assertShape, contiguousStrides, numel, type Shape } from '../shape.js';
import { Tensor, type NestedArray } from '../tensor.js';

/** Options for functions that create a tensor from nothing. */
export interface CreateOptions {
  dtype?: DType;
  /** Backend name; the current default backend when omitted. */
  device?: string;
  requiresGrad?: boolean;
}

function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  if (opts?.requiresGrad) t.requiresGrad_();
  return t;
}

/** Fills a new tensor with one value. */
export const fullOp = defineOp<{ shape: Shape; value: number; dtype: DType }>({
  name: 'full',
  kind: 'primitive',
  differentiable: false,
  infer: (_inputs, { shape, dtype }) => ({ shape, dtype }),
});

/** A tensor of `shape` filled with `value` (default dtype f32). */
export function full(shape: Shape, value: number, opts?: CreateOptions): Tensor {
  assertShape(shape, 'full');
  const dtype = opts?.dtype ?? 'f32';
  assertDType(dtype, 'full');
  return finish(apply(fullOp, [], { shape: [...shape], value, dtype }, opts?.device), opts);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, opts?: CreateOptions): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: Shape, opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

/** Zeros with another tensor's shape, dtype and device. */
export function zerosLike(t: Tensor, opts?: CreateOptions): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
}

/** Ones with another tensor's shape, dtype and device. */
export function onesLike(t: Tensor, opts?: CreateOptions): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
}

/** A 0-d tensor holding `value` with the dtype and device of `like`: how ops take plain numbers. */
export function scalarLike(value: number, like: Tensor): Tensor {
  // A non-integer scalar next to an integer tensor makes the result float, as in PyTorch.
  const dtype = !isFloat(like.dtype) && !Number.isInteger(value) ? 'f32' : like.dtype === 'bool' && value !== 0 && value !== 1 ? 'i32' : like.dtype;
  return full([], value, { dtype, device: like.device });
}

/** Evenly spaced values start, start+step, ... below end. */
export const arangeOp = defineOp<{ start: number; step: number; size: number; dtype: DType }>({
  name: 'arange',
  kind: 'primitive',
  differentiable: false,
  infer: (_inputs, { size, dtype }) => ({ shape: [size], dtype }),
});

/** `arange(end)` or `arange(start, end, step)`: values in [start, end) (dtype i32 when all are integers, else f32). */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new RangeError(`arange: step must be a non-zero finite number (got ${step})`);
  const size = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts?.dtype ?? ([start, end, step].every(Number.isInteger) ? 'i32' : 'f32');
  return finish(apply(arangeOp, [], { start, step, size, dtype }, opts?.device), opts);
}

/** Uniform, normal or integer random values from a counter-based stream. */
export const randomOp = defineOp<{ shape: Shape; dtype: DType; kind: RandomKind; stream: RandomStream; low: number; high: number }>({
  name: 'random',
  kind: 'primitive',
  differentiable: false,
  infer: (_inputs, { shape, dtype }) => ({ shape, dtype }),
});

/** Options for random tensors: a generator to draw from (the default generator when omitted). */
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function random(kind: RandomKind, shape: Shape, low: number, high: number, dtype: DType, opts?: RandomOptions): Tensor {
  assertShape(shape, kind === 'int' ? 'randint' : kind === 'normal' ? 'randn' : 'rand');
  const stream = (opts?.generator ?? defaultGenerator).next(numel(shape));
  return finish(apply(randomOp, [], { shape: [...shape], dtype, kind, stream, low, high }, opts?.device), opts);
}

/** Uniform values in [0, 1). */
export function rand(shape: Shape, opts?: RandomOptions): Tensor {
  return random('uniform', shape, 0, 1, opts?.dtype ?? 'f32', opts);
}

/** Standard normal values. */
export function randn(shape: Shape, opts?: RandomOptions): Tensor {
  return random('normal', shape, 0, 1, opts?.dtype ?? 'f32', opts);
}

/** Integers in [low, high) (dtype i32). */
export function randint(low: number, high: number, shape: Shape, opts?: RandomOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high (got low=${low}, high=${high})`);
  }
  return random('int', shape, low, high, opts?.dtype ?? 'i32', opts);
}

function flatten(data: NestedArray | ArrayLike<number>, shape: number[], out: number[], depth: number): void {
  if (typeof data === 'number' || typeof data === 'boolean') {
    if (depth !== shape.length) throw new RangeError(`tensor: ragged nested array (a number at depth ${depth}, expected depth ${shape.length})`);
    out.push(Number(data));
    return;
  }
  const arr = data as ArrayLike<NestedArray>;
  if (depth === shape.length) shape.push(arr.length);
  else if (shape[depth] !== arr.length) {
    throw new RangeError(`tensor: ragged nested array (length ${arr.length} at depth ${depth}, expected ${shape[depth]})`);
  }
  for (let i = 0; i < arr.length; i++) flatten(arr[i]!, shape, out, depth + 1);
}

function dtypeOfTyped(data: ArrayLike<number>): DType | undefined {
  if (data instanceof Float64Array) return 'f64';
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Int32Array) return 'i32';
  if (data instanceof Uint32Array) return 'u32';
  if (data instanceof Uint8Array) return 'u8';
  return undefined;
}

/** @internal A tensor from raw typed elements already in `dtype`'s storage format. */
export function tensorFromTyped(values: TypedArray, shape: Shape, dtype: DType, device?: string): Tensor {
  const backend = getBackend(device);
  const storage = backend.upload(dtype, fromNumbers(dtype, values));
  return new Tensor(storage, shape, contiguousStrides(shape), 0, dtype);
}

/**
 * A tensor from nested arrays, a flat array with `shape`, or a typed array. dtype: given, else from
 * the typed array, else bool for booleans, else f32.
 */
export function tensor(data: NestedArray | ArrayLike<number>, opts?: CreateOptions & { shape?: Shape }): Tensor {
  const flat: number[] = [];
  let shape: number[] = [];
  const typedDtype = ArrayBuffer.isView(data) ? dtypeOfTyped(data as ArrayLike<number>) : undefined;
  if (ArrayBuffer.isView(data)) {
    const arr = data as ArrayLike<number>;
    for (let i = 0; i < arr.length; i++) flat.push(arr[i]!);
    shape = [arr.length];
  } else flatten(data as NestedArray, shape, flat, 0);
  if (opts?.shape) {
    assertShape(opts.shape, 'tensor');
    if (numel(opts.shape) !== flat.length) {
      throw new RangeError(`tensor: shape [${opts.shape.join(',')}] holds ${numel(opts.shape)} elements but the data has ${flat.length}`);
    }
    shape = [...opts.shape];
  }
  const isBool = typeof data === 'boolean' || (Array.isArray(data) && JSON.stringify(data).match(/true|false/) !== null);
  const dtype = opts?.dtype ?? typedDtype ?? (isBool ? 'bool' : 'f32');
  assertDType(dtype, 'tensor');
  const backend = getBackend(opts?.device);
  const storage = backend.upload(dtype, fromNumbers(dtype, flat));
  return finish(new Tensor(storage, shape, contiguousStrides(shape), 0, dtype), opts);
}

/** Same as `tensor`: PyTorch's `torch.tensor` / NumPy's `array`. */
export const fromArray = tensor;
