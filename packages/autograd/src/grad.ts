import { detach, isTensor, tidy, withGradMode, zerosLike, type Tensor } from '@tessera/tensor';
import { runBackward, seedFor } from './engine.js';

/** Gradients of `output` with respect to `inputs` (zeros where an input does not affect it); `.grad` fields are left alone. */
export function gradients(output: Tensor, inputs: readonly Tensor[], opts: { gradient?: Tensor; createGraph?: boolean } = {}): Tensor[] {
  const seed = seedFor(output, opts.gradient, 'gradients');
  const grads = runBackward(output, seed, { targets: inputs, createGraph: opts.createGraph ?? false, leafMode: 'ignore' });
  if (seed !== opts.gradient && !grads.includes(seed)) seed.dispose();
  return grads.map((g, i) => g ?? zerosLike(inputs[i]!));
}

type TensorFn = (...args: Tensor[]) => Tensor;

/**
 * `valueAndGrad(f)(...args)` returns f's value and its gradient with respect to each tensor
 * argument, as JAX does; intermediates are disposed. f must return a one-element tensor.
 */
export function valueAndGrad(fn: TensorFn): (...args: Tensor[]) => [Tensor, Tensor[]] {
  return (...args: Tensor[]) =>
    tidy(() => {
      args.forEach((a, i) => {
        if (!isTensor(a)) throw new TypeError(`valueAndGrad: argument ${i} is not a tensor; close over non-tensor arguments instead`);
      });
      const inputs = args.map((a) => detach(a).requiresGrad_());
      const value = withGradMode(true, () => fn(...inputs));
      if (!isTensor(value)) throw new TypeError('valueAndGrad: the function must return a tensor');
      const grads = value.requiresGrad ? gradients(value, inputs) : inputs.map((x) => zerosLike(x));
      return [detach(value), grads] as [Tensor, Tensor[]];
    });
}

/** `grad(f)(...args)`: the gradient of f with respect to each tensor argument. */
export function grad(fn: TensorFn): (...args: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(fn);
  return (...args: Tensor[]) => {
    const [value, grads] = vg(...args);
    value.dispose();
    return grads;
  };
}

/** Runs `fn` without recording gradients (PyTorch's `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
