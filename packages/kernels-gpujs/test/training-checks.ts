// The training checks every gpujs mode runs: the 1-block transformer's loss and gradients equal the
// CPU backend's, and AdamW steps lower the loss while leaking no tensors and no gpu.js handles.
import { expect, test } from 'vitest';
import type { GpuJsBackend } from '../src/index.js';
import { transformerLossAndGrads, trainTransformer } from './transformer.js';

/** Loss and gradients of a composed forward and backward pass: f32 kernels, reordered sums. */
const GRAD_TOL: [number, number] = [2e-4, 2e-4];

/** Registers the training tests for `backend`. */
export function trainingChecks(backend: GpuJsBackend): void {
  test('a 1-block transformer gives the CPU loss and gradients', async () => {
    const cpu = await transformerLossAndGrads('cpu');
    const gpujs = await transformerLossAndGrads(backend.name);
    expect(gpujs.length).toBe(cpu.length);
    const [rel, abs] = GRAD_TOL;
    for (let i = 0; i < cpu.length; i++) {
      if (!(Math.abs(cpu[i]! - gpujs[i]!) <= abs + rel * Math.abs(cpu[i]!))) expect.fail(`${i === 0 ? 'loss' : `gradient value ${i - 1}`}: cpu ${cpu[i]}, gpujs ${gpujs[i]}`);
    }
  });

  test('AdamW training steps lower the loss and leak no tensors or gpu.js handles', async () => {
    const { losses, liveAfterFirst, liveAfterLast } = await trainTransformer(backend.name, 3, () => backend.memory().liveHandles);
    expect(losses[2]).toBeLessThan(losses[0]!);
    expect(liveAfterLast).toEqual(liveAfterFirst);
  });
}
