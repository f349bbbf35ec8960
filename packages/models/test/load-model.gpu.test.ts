// loadModel / saveModel on WebGPU: bf16 and f16 checkpoints load onto the GPU (uploaded in their
// stored dtype, converted there) as f32 by default or kept in half precision, with exactly the
// values a CPU load gives; the loaded model computes and generates as on the CPU; a GPU model
// saves the same bytes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '@tessera/autograd';
import { tensor, tidy } from '@tessera/tensor';
import { generate, loadGPT2OrBert, loadModel, saveModel, type LlamaForCausalLM } from '../src/index.js';
import { FIXTURES, compare } from './reference-check.js';
import { webGpuOrNull } from './webgpu-backend.js';

const gpu = await webGpuOrNull();
const scratch = mkdtempSync(join(tmpdir(), 'tessera-models-gpu-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  gpu?.destroy();
});

async function paramsOf(model: LlamaForCausalLM): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, p] of model.namedParameters()) out.set(k, Array.from(await p.data()));
  return out;
}

async function logitsOf(model: LlamaForCausalLM): Promise<Float32Array> {
  const logits = noGrad(() => tidy(() => model.forward(tensor([[3, 9, 27, 17, 51]], { dtype: 'i32', device: model.device })).logits.cast('f32')));
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  return values;
}

describe.skipIf(gpu === null)('loadModel onto WebGPU', () => {
  it.each(['bf16', 'f16'] as const)('a %s checkpoint loads as f32 (default) or in its own dtype, with the CPU values', async (stored) => {
    const dir = join(scratch, stored);
    const source = await loadModel(join(FIXTURES, 'tiny-qwen3'));
    await saveModel(source.model, dir, { dtype: stored });
    source.model.dispose();

    for (const dtype of [undefined, stored] as const) {
      const cpu = await loadModel(dir, { backend: 'cpu', dtype });
      const web = await loadModel(dir, { backend: 'webgpu', dtype });
      expect(web.model.device).toBe('webgpu');
      expect(web.model.dtype).toBe(dtype ?? 'f32');
      expect(web.model.parameters().every((p) => p.device === 'webgpu' && p.dtype === (dtype ?? 'f32'))).toBe(true);
      expect(await paramsOf(web.model)).toEqual(await paramsOf(cpu.model));
      if (dtype === undefined) {
        compare(`${stored} checkpoint, f32 logits on WebGPU vs CPU`, await logitsOf(web.model), await logitsOf(cpu.model));
        const prompt = [[5, 17, 33, 8]];
        const opts = { maxNewTokens: 6, eosTokenId: [] };
        expect((await generate(web.model, prompt, opts)).tokens).toEqual((await generate(cpu.model, prompt, opts)).tokens);
      }
      cpu.model.dispose();
      web.model.dispose();
    }
  });

  it('a model on WebGPU saves the bytes the CPU saves', async () => {
    const web = await loadModel(join(FIXTURES, 'tiny-mistral'), { backend: 'webgpu' });
    const cpu = await loadModel(join(FIXTURES, 'tiny-mistral'), { backend: 'cpu' });
    for (const [model, name] of [[web.model, 'web'], [cpu.model, 'cpu']] as const) await saveModel(model, join(scratch, name), { dtype: 'bf16' });
    for (const f of ['config.json', 'model.safetensors']) expect(readFileSync(join(scratch, 'web', f)).equals(readFileSync(join(scratch, 'cpu', f))), f).toBe(true);
    web.model.dispose();
    cpu.model.dispose();
  });

  it('GPT-2 and BERT load onto WebGPU too; backend and its alias device must agree', async () => {
    const gpt2 = await loadGPT2OrBert(join(FIXTURES, 'tiny-gpt2'), { backend: 'webgpu' });
    expect(gpt2.model.parameters().every((p) => p.device === 'webgpu')).toBe(true);
    gpt2.model.dispose();
    await expect(loadModel(join(FIXTURES, 'tiny-llama'), { backend: 'webgpu', device: 'cpu' })).rejects.toThrow(/backend "webgpu" and device "cpu" disagree/);
  });
});
