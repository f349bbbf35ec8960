import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { setBackend } from '@tessera/tensor';
import { trainCommand } from '../src/commands/train.js';
import { useComputeBackend } from '../src/compute-backend.js';
import { tinyBaseAndData } from './tiny-base.js';

// Without an adapter, useComputeBackend('webgpu') throws: this test fails, never skips, on a machine
// without WebGPU (CI installs Mesa's lavapipe so it has one).
describe('train --backend webgpu', () => {
  it('names the adapter it chose and reaches the CPU losses within tolerance', async () => {
    const line = await useComputeBackend('webgpu');
    expect(line).toMatch(/^backend: webgpu \(adapter: .+\)$/);
    setBackend('cpu');
    const { dir, base, data } = await tinyBaseAndData('tessera-gpu-train-', { seed: 3, perFamily: 2 }, { vocabSize: 300, paragraphs: 200 });
    const o = { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'], lr: 1e-2, warmup: 0, steps: 4, batch: 2, maxLength: 48, seed: 2 };
    const cpu = await trainCommand({ model: base, data, out: path.join(dir, 'cpu'), overrides: { ...o, backend: 'cpu' }, quiet: true });
    setBackend('cpu');
    const gpu = await trainCommand({ model: base, data, out: path.join(dir, 'gpu'), overrides: { ...o, backend: 'webgpu' }, quiet: true });
    setBackend('cpu');
    expect(gpu.losses).toHaveLength(4);
    expect([cpu.device, gpu.device]).toEqual(['cpu', 'webgpu']);
    gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!), `step ${i + 1}: webgpu ${l} vs cpu ${cpu.losses[i]}`).toBeLessThan(2e-3 * Math.max(1, cpu.losses[i]!)));
  });
});
