// Streaming load: loadModel reads one tensor at a time from its shard, so the host memory a load
// needs beyond the model's own parameters stays near one tensor, below one shard and far below
// the checkpoint. Measured with process.memoryUsage().arrayBuffers (file reads and CPU tensors are
// ArrayBuffers) after a forced GC at every read.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, registerBackend } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { LlamaForCausalLM, llamaConfig, modelFromFiles, readModelFolder, saveModel } from '../src/index.js';

// The WASM matmul's memory would be counted too; plain JS kernels keep the measure to tensors.
// recycle: false: the backend's pool of freed f32 arrays (kept for reuse, up to 256 MiB) would count as
// the loader's memory; this test measures what loading itself holds at its peak.
registerBackend(createCpuBackend({ wasm: false, recycle: false }));
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const scratch = mkdtempSync(join(tmpdir(), 'tessera-stream-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const MB = 2 ** 20;
const hostBytes = (): number => {
  gc();
  return process.memoryUsage().arrayBuffers;
};

describe('loadModel streams', () => {
  it('peak host memory beyond the parameters stays under one shard (8 MB model in 2 MB shards)', async () => {
    // 8 layers of ~1 MB, no tensor over 256 KB: a loader holding a shard would need 2 MB extra,
    // one holding the checkpoint 8 MB.
    const config = llamaConfig({ vocabSize: 512, hiddenSize: 128, intermediateSize: 512, numHiddenLayers: 8, numAttentionHeads: 4, tieWordEmbeddings: true });
    const source = new LlamaForCausalLM(config, { generator: new Generator(3) });
    const dir = join(scratch, 'model');
    await saveModel(source, dir, { maxShardSize: 2 * MB });
    source.dispose();
    const shards = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThanOrEqual(4);
    const fileBytes = shards.reduce((s, f) => s + statSync(join(dir, f)).size, 0);

    const base = hostBytes();
    const files = await readModelFolder(dir);
    let peak = 0;
    let largest = 0;
    for (const entry of files.weights.values()) {
      const read = entry.read.bind(entry);
      largest = Math.max(largest, entry.shape.reduce((a, b) => a * b, 1) * 4);
      entry.read = async () => {
        const value = await read();
        const now = hostBytes() - base;
        peak = Math.max(peak, now); // the model so far + this tensor's bytes
        return value;
      };
    }
    const { model } = await modelFromFiles(files);
    const paramBytes = model.parameters().reduce((s, p) => s + p.size * 4, 0);
    const extra = peak - paramBytes;
    console.log(
      `streaming load: checkpoint ${(fileBytes / MB).toFixed(2)} MB in ${shards.length} shards, parameters ${(paramBytes / MB).toFixed(2)} MB, ` +
        `peak host memory beyond the parameters ${(extra / MB).toFixed(2)} MB (largest tensor ${(largest / MB).toFixed(2)} MB)`,
    );
    expect(paramBytes).toBeGreaterThan(7 * MB);
    // Measured ~0.1-1 MB (a tensor's bytes, its copy, and buffers the GC has not returned yet):
    // under one 2 MB shard, where holding the checkpoint would add over 8 MB.
    expect(extra).toBeLessThan(2 * MB);
    model.dispose();
  });
});
