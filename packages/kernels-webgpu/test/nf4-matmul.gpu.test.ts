// The fused NF4 dequant-matmul on WebGPU: the cross-backend property (both directions, odd shapes),
// a shape spanning several output tiles and scale groups, its input gradient through the engine, and
// proof that it never holds the weight in f32: no nf4Dequantize runs and no GPU buffer of the dense
// weight's size is requested.
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { valueAndGrad } from '@tessera/autograd';
import { expectSame, gpuOrNull, makeView } from './cross-backend.js';
import { NF4_MATMUL_PROPERTIES, checkNf4Matmul, packedWeight } from './nf4-matmul-property.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

describe.skipIf(gpu === null)('nf4Matmul on webgpu', () => {
  for (const [name, property] of Object.entries(NF4_MATMUL_PROPERTIES)) {
    test(`equals the CPU and its decomposition (property: both directions, shapes not dividing the tiles, ${name})`, property);
  }

  test('several 64x64 output tiles, a partial last NF4 block and three scale groups', async () => {
    // 301 x 133 = 40033 weights: 626 blocks (the last one partial) over 3 second-level scales.
    await checkNf4Matmul([2, 35], [301, 133], true, 'dense', 'f32', 11);
    await checkNf4Matmul([67], [301, 133], false, 'transposed', 'f32', 12);
    await checkNf4Matmul([3, 5], [301, 133], true, 'sliced', 'bf16', 13);
  });

  test('its input gradient (the x·W direction) matches the CPU, and neither direction materialises the f32 weight', async () => {
    const shape: [number, number] = [97, 75]; // 7275 weights: an f32 copy would be 29100 bytes
    const denseBytes = shape[0] * shape[1] * 4;
    const run = (device: string): Tensor[] => {
      const w = packedWeight(device, shape, 21);
      const x = makeView(device, [3, 11, shape[1]], 'dense', 'f32', 22, 'unit');
      const u = makeView(device, [3, 11, shape[0]], 'dense', 'f32', 23, 'unit');
      const [value, [gx]] = valueAndGrad((xi: Tensor) => T.sum(T.mul(T.apply(T.OPS.nf4Matmul, [xi, ...w.tensors], { ...w.attrs, transposeW: true }), u)))(x);
      [x, u, ...w.tensors].forEach((t) => t.dispose());
      return [value, gx!];
    };
    const cpu = run('cpu');
    // Watch every buffer request and every dequantisation on the device while the GPU step runs.
    const ctx = gpu!.context;
    const acquire = ctx.acquire.bind(ctx);
    const requested: number[] = [];
    ctx.acquire = (bytes: number) => (requested.push(bytes), acquire(bytes));
    const kernels = gpu!.kernels as Map<T.OpDef, T.Kernel>;
    const dequantize = kernels.get(T.OPS.nf4Dequantize)!;
    let dequantizeCalls = 0;
    kernels.set(T.OPS.nf4Dequantize, (...args) => (dequantizeCalls++, dequantize(...args)));
    let gpuOut: Tensor[];
    try {
      gpuOut = run('webgpu');
      await gpuOut[1]!.data();
    } finally {
      ctx.acquire = acquire;
      kernels.set(T.OPS.nf4Dequantize, dequantize);
    }
    expect(dequantizeCalls).toBe(0);
    expect(requested.length).toBeGreaterThan(0);
    expect(Math.max(...requested)).toBeLessThan(denseBytes);
    await expectSame(cpu[0]!, gpuOut[0]!, 'loss', [1e-4, 1e-3]);
    await expectSame(cpu[1]!, gpuOut[1]!, 'input gradient', [1e-4, 1e-4]);
    [...cpu, ...gpuOut].forEach((t) => t.dispose());
  });
});
