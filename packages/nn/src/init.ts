import { add, full, mul, rand, randn, tidy, type DType, type Generator, type Tensor } from '@tessera/tensor';

/** Where new parameters are made and which random stream initialises them. */
export interface InitOptions {
  dtype?: DType;
  device?: string;
  generator?: Generator;
}

/** Uniform values in [low, high). */
export function uniform(shape: number[], low: number, high: number, opts: InitOptions = {}): Tensor {
  return tidy(() => add(mul(rand(shape, { device: opts.device, generator: opts.generator, dtype: 'f32' }), high - low), low)).cast(opts.dtype ?? 'f32');
}

/** Normal values with a mean and standard deviation. */
export function normal(shape: number[], std: number, opts: InitOptions = {}, meanValue = 0): Tensor {
  return tidy(() => add(mul(randn(shape, { device: opts.device, generator: opts.generator, dtype: 'f32' }), std), meanValue)).cast(opts.dtype ?? 'f32');
}

/** A constant-filled parameter. */
export function constant(shape: number[], value: number, opts: InitOptions = {}): Tensor {
  return full(shape, value, { dtype: opts.dtype ?? 'f32', device: opts.device });
}
