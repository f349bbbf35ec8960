import {
  Generator,
  add,
  sub,
  cast,
  detach,
  mul,
  randn,
  sum,
  tidy,
  withGradMode,
  type Tensor,
} from '@tessera/tensor';
import { gradients } from './grad.js';

/** Tolerances and step of a gradient check. */
export interface GradcheckOptions {
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Random directions tried (default 2). */
  directions?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
}

/** What a gradient check measured for one direction. */
export interface GradcheckResult {
  /** ⟨vjp(u), v⟩ from the gradient rules. */
  analytic: number;
  /** ⟨u, (f(x + εv) − f(x − εv)) / 2ε⟩ by central differences. */
  numeric: number;
}

function scalar(t: Tensor): number {
  return t.dataSync()[0]!;
}

/**
 * Checks the gradient rules behind `fn` against central finite differences in f64, along random
 * directions v (inputs) and u (output): ⟨u, J v⟩ numerically vs ⟨Jᵀu, v⟩ from backward. Inputs are
 * cast to f64; runs where synchronous reads work (the CPU backend). Throws with both figures on a
 * mismatch; returns the measurements otherwise.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult[] {
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const eps = opts.eps ?? 1e-6;
  const gen = new Generator(opts.seed ?? 0);
  const results: GradcheckResult[] = [];
  for (let d = 0; d < (opts.directions ?? 2); d++) {
    const result = tidy(() => {
      const xs = inputs.map((x) => cast(detach(x), 'f64'));
      const vs = xs.map((x) => randn(x.shape, { dtype: 'f64', device: x.device, generator: gen }));
      const leaves = xs.map((x) => detach(x).requiresGrad_());
      const out = withGradMode(true, () => fn(...leaves));
      if (out.dtype !== 'f64') throw new TypeError(`gradcheck: fn returned ${out.dtype}; it must compute in the inputs' dtype (f64)`);
      const u = randn(out.shape, { dtype: 'f64', device: out.device, generator: gen });
      const grads = out.requiresGrad ? gradients(out, leaves, { gradient: u }) : null;
      let analytic = 0;
      if (grads) grads.forEach((g, i) => (analytic += scalar(sum(mul(g, vs[i]!)))));
      const shifted = (sign: number): Tensor =>
        withGradMode(false, () => fn(...xs.map((x, i) => add(x, mul(vs[i]!, sign * eps)))));
      const diff = mul(sub(shifted(1), shifted(-1)), 1 / (2 * eps));
      const numeric = scalar(sum(mul(u, diff)));
      return { analytic, numeric };
    });
    if (!(Math.abs(result.analytic - result.numeric) <= atol + rtol * Math.abs(result.numeric))) {
      throw new Error(
        `gradcheck: backward gives ⟨Jᵀu, v⟩ = ${result.analytic} but finite differences give ${result.numeric} ` +
          `(difference ${Math.abs(result.analytic - result.numeric)}, atol ${atol}, rtol ${rtol}; input shapes ${inputs
            .map((x) => `[${x.shape.join(',')}]`)
            .join(' ')})`,
      );
    }
    results.push(result);
  }
  return results;
}

