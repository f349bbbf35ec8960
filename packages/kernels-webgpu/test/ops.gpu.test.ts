// The cross-backend property of every primitive: on shapes with size-1, empty, odd and strided
// (offset, transposed, sliced, broadcast) operands, the WebGPU result equals the CPU result within
// the tolerance of its dtype. The table is shared with kernels-gpujs (@tessera/autograd/testing's
// primitiveProperties); the coverage test fails when a primitive lacks a WebGPU kernel or a property.
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { primitiveProperties } from '@tessera/autograd/testing';
import { WEBGPU_KERNELS } from '../src/index.js';
import { gpuOrNull, numRuns } from './cross-backend.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());
const PROPERTIES = primitiveProperties({ device: 'webgpu', numRuns: numRuns() });

describe.skipIf(gpu === null)('every primitive: WebGPU equals CPU', () => {
  test('coverage: every primitive has a WebGPU kernel and a cross-backend property', () => {
    const prims = T.listPrimitives().map((op) => op.name);
    expect(prims.filter((n) => !WEBGPU_KERNELS.has((T.OPS as Record<string, T.OpDef>)[n]!)), 'primitives without a WebGPU kernel').toEqual([]);
    expect(prims.filter((n) => !(n in PROPERTIES)), 'primitives without a cross-backend property').toEqual([]);
  });
  for (const name of Object.keys(PROPERTIES)) test(name, () => PROPERTIES[name]!());
});
