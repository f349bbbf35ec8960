import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { setBackend } from '@tessera/tensor';
import { pretrain, PRETRAIN_DEFAULTS } from '../src/commands/pretrain.js';
import { trainCommand } from '../src/commands/train.js';
import { useComputeBackend } from '../src/compute-backend.js';
import { instructionTasks } from '../src/data/instruction-tasks.js';

// Without an adapter, useComputeBackend('webgpu') throws: this test fails, never skips, on a machine
// without WebGPU (CI installs Mesa's lavapipe so it has one).
describe('train --backend webgpu', () => {
  it('names the adapter it chose and reaches the CPU losses within tolerance', async () => {
    const line = await useComputeBackend('webgpu');
    expect(line).toMatch(/^backend: webgpu \(adapter: .+\)$/);
    setBackend('cpu');
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-gpu-train-'));
    const base = path.join(dir, 'base');
    await pretrain({ ...PRETRAIN_DEFAULTS, out: base, hiddenSize: 32, layers: 1, heads: 2, vocabSize: 300, seqLen: 32, batch: 4, steps: 2, paragraphs: 200, quiet: true });
    const data = path.join(dir, 'train.jsonl');
    await writeFile(data, instructionTasks(3, 2, 0).train.map((e) => JSON.stringify({ messages: e.messages })).join('\n') + '\n');
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
