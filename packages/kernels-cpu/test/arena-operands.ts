// Test support: f32 operands for the shared-memory (arena) kernels, in an arena block or a plain array
// at an element offset, and a row-major view over one.
import type { TensorView } from '@tessera/tensor';
import { arenaTake } from '../src/wasm/f32-arena.js';
import { rng } from './views.js';

/** Values in [-4, 4). */
export const uniformValue = (next: () => number): number => next() * 8 - 4;

/**
 * `count` values drawn by `value` from `seed` after `offset` leading elements (drawn too), in an arena
 * block or a plain array. Throws when the arena hands out no block (the test must configure it).
 */
export function arenaOperand(count: number, offset: number, arena: boolean, seed: number, value: (next: () => number) => number = uniformValue): Float32Array {
  const next = rng(seed);
  const data = arena ? arenaTake(offset + count) : new Float32Array(offset + count);
  if (data === null) throw new Error('the test expects the arena to hand out a block');
  for (let i = 0; i < data.length; i++) data[i] = value(next);
  return data;
}

/** A dense row-major f32 view of `shape` over `data` from element `offset`. */
export function operandView(data: Float32Array, shape: number[], offset: number): TensorView {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
  return { storage: { data } as TensorView['storage'], shape, strides, offset, dtype: 'f32' };
}
