// The cross-backend property of every primitive, for any gpujs backend: the table shared with
// kernels-webgpu (@tessera/autograd/testing's primitiveProperties), u32 results included (a u32
// that wrapped below 0 is held as that negative value and wraps when read), plus the gpujs
// coverage check.
import { expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { primitiveProperties as sharedProperties } from '@tessera/autograd/testing';
import { GPUJS_KERNELS } from '../src/index.js';
import { numRuns } from './cross-backend.js';

/** Registers the coverage test and one property test per primitive for the backend named `device`. */
export function primitiveProperties(device: string): void {
  const props = sharedProperties({ device, numRuns: numRuns() });
  test('coverage: every primitive has a gpujs kernel and a cross-backend property', () => {
    const prims = T.listPrimitives().map((op) => op.name);
    expect(prims.filter((n) => !GPUJS_KERNELS.has((T.OPS as Record<string, T.OpDef>)[n]!)), 'primitives without a gpujs kernel').toEqual([]);
    expect(prims.filter((n) => !(n in props)), 'primitives without a cross-backend property').toEqual([]);
  });
  for (const name of Object.keys(props)) test(name, () => props[name]!());
}
