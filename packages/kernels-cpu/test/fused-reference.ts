// The reference a fused-kernel property compares against: a second CPU backend without those kernels,
// so the ops run their decompositions on the same inputs.
import { expect } from 'vitest';
import * as T from '@tessera/tensor';
import type { OpDef, Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { logical } from './views.js';

/** A function giving an op's result on the default (fused) CPU backend and on a backend `name` without `ops`' kernels, as logical values. */
export function fusedAndDecomposed(name: string, ops: readonly OpDef[]): (run: (...xs: Tensor[]) => Tensor, inputs: Tensor[]) => [number[], number[]] {
  const decomposed = createCpuBackend({ name });
  for (const op of ops) (decomposed.kernels as Map<OpDef, unknown>).delete(op);
  T.registerBackend(decomposed);
  return (run, inputs) => {
    const fused = run(...inputs);
    const reference = run(...inputs.map((t) => T.tensor(logical(t), { shape: [...t.shape], dtype: t.dtype, device: name })));
    expect(fused.device).toBe('cpu');
    expect(fused.shape).toEqual(reference.shape);
    expect(fused.dtype).toBe(reference.dtype);
    return [logical(fused), logical(reference)];
  };
}
