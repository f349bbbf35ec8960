import { add, full, mul, rand, randn, tidy, type DType, type Generator, type Tensor } from '@tessera/tensor';

/** Where new parameters are made and which random stream initialises them. */
export interface InitOptions {
  dtype?: DType;
  device?: string;
  generator?: Generator;
  /**
   * Zero-filled parameters without drawing random numbers: for modules whose weights are about to
   * be loaded (drawing ~150 ns per element made building a 0.5B model take over a minute).
   */
  skipInit?: boolean;
}

/** Uniform values in [low, high). */
export function uniform(shape: number[], low: number, high: number, opts: InitOptions = {}): Tensor {
  if (opts.skipInit) return constant(shape, 0, opts);
  return tidy(() => add(mul(rand(shape, { device: opts.device, generator: opts.generator, dtype: 'f32' }), high - low), low)).cast(opts.dtype ?? 'f32');
}

/** Normal values with a mean and standard deviation. */
export function normal(shape: number[], std: number, opts: InitOptions = {}, meanValue = 0): Tensor {
  if (opts.skipInit) return constant(shape, 0, opts);
  return tidy(() => add(mul(randn(shape, { device: opts.device, generator: opts.generator, dtype: 'f32' }), std), meanValue)).cast(opts.dtype ?? 'f32');
}

/** A constant-filled parameter. */
export function constant(shape: number[], value: number, opts: InitOptions = {}): Tensor {
  return full(shape, value, { dtype: opts.dtype ?? 'f32', device: opts.device });
}
