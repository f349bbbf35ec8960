// Loading and saving Hugging Face model folders: round trips, dtypes, in-memory loading, tokenizer
// files, and errors for broken folders.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bf16ToF32, f32ToBf16, memory, registerBackend, tensor, tidy } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { noGrad } from '@tessera/autograd';
import { trainBpe } from '@tessera/tokenizers';
import { readSafetensors, serializeSafetensors } from '@tessera/safetensors';
import { loadModel, loadModelFromFiles, parseGenerationConfig, saveModel, type LlamaForCausalLM } from '../src/index.js';

registerBackend(createCpuBackend());

const FIXTURES = join(import.meta.dirname, 'fixtures');
const scratch = mkdtempSync(join(tmpdir(), 'tessera-models-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(scratch, `m${n++}`);

function copyFixture(name: string): string {
  const dir = freshDir();
  mkdirSync(dir);
  for (const f of readdirSync(join(FIXTURES, name))) copyFileSync(join(FIXTURES, name, f), join(dir, f));
  return dir;
}

function logitsOf(model: LlamaForCausalLM): Float32Array {
  return noGrad(() => tidy(() => model.forward(tensor([[3, 9, 27, 17, 51]], { dtype: 'i32' })).logits.cast('f32').dataSync() as Float32Array));
}

function paramsOf(model: LlamaForCausalLM): Map<string, number[]> {
  return new Map(model.namedParameters().map(([k, p]) => [k, Array.from(p.dataSync())]));
}

describe('saveModel / loadModel', () => {
  it.each(['tiny-llama', 'tiny-qwen2', 'tiny-qwen3', 'tiny-mistral'])('%s: a saved model loads back identically', async (name) => {
    const { model, config } = await loadModel(join(FIXTURES, name));
    const dir = freshDir();
    await saveModel(model, dir);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    const saved = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
    expect(saved.tensors.has('lm_head.weight')).toBe(!config.tieWordEmbeddings);
    const back = await loadModel(dir);
    expect({ ...back.config, raw: null }).toEqual({ ...config, raw: null });
    expect(paramsOf(back.model)).toEqual(paramsOf(model));
    expect(logitsOf(back.model)).toEqual(logitsOf(model));
    model.dispose();
    back.model.dispose();
  });

  it('shards beyond maxShardSize like transformers, and a later save removes the stale weight files', async () => {
    const { model } = await loadModel(join(FIXTURES, 'tiny-llama'));
    const dir = freshDir();
    await saveModel(model, dir, { maxShardSize: 40_000 });
    const files = readdirSync(dir).sort();
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(1);
    expect(files).not.toContain('model.safetensors');
    const sharded = await loadModel(dir);
    expect(paramsOf(sharded.model)).toEqual(paramsOf(model));
    await saveModel(model, dir); // back to one file: the shards and index go
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    model.dispose();
    sharded.model.dispose();
  });

  it('loads and saves bf16: bf16 storage when asked, f32 by default, values exactly the bf16 ones', async () => {
    const { model } = await loadModel(join(FIXTURES, 'tiny-llama'));
    const dir = freshDir();
    await saveModel(model, dir, { dtype: 'bf16' });
    const file = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
    expect(new Set([...file.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['BF16']));
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');

    const asBf16 = await loadModel(dir, { dtype: 'bf16' });
    expect(asBf16.model.dtype).toBe('bf16');
    expect(new Set(asBf16.model.parameters().map((p) => p.dtype))).toEqual(new Set(['bf16']));
    const asF32 = await loadModel(dir);
    expect(asF32.model.dtype).toBe('f32');
    const w = model.model.layers.items[0]!.self_attn.q_proj.weight.dataSync();
    const rounded = Array.from(w, (x) => bf16ToF32(f32ToBf16(x)));
    expect(Array.from(asF32.model.model.layers.items[0]!.self_attn.q_proj.weight.dataSync())).toEqual(rounded);
    expect(Array.from(asBf16.model.model.layers.items[0]!.self_attn.q_proj.weight.dataSync())).toEqual(rounded);
    // bf16 compute stays close to f32 (a few bf16 ulps through two layers).
    const ref = logitsOf(model);
    const low = logitsOf(asBf16.model);
    const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const worst = ref.reduce((m, x, i) => Math.max(m, Math.abs(x - low[i]!)), 0);
    expect(worst / scale).toBeLessThan(0.05);
    // A bf16 model saves as bf16 by default and reloads bit for bit.
    const dir2 = freshDir();
    await saveModel(asBf16.model, dir2);
    expect(readFileSync(join(dir2, 'model.safetensors'))).toEqual(readFileSync(join(dir, 'model.safetensors')));
    for (const m of [model, asBf16.model, asF32.model]) m.dispose();
  });

  it('loads from bytes and tensors in memory (the browser path), sharded or not', async () => {
    const read = (f: string): Uint8Array => readFileSync(join(FIXTURES, 'tiny-qwen3', f));
    const fromDisk = await loadModel(join(FIXTURES, 'tiny-qwen3'));
    const weights = new Map<string, Uint8Array>([
      ['model-00001-of-00002.safetensors', read('model-00001-of-00002.safetensors')],
      ['model-00002-of-00002.safetensors', read('model-00002-of-00002.safetensors')],
    ]);
    const inMemory = await loadModelFromFiles({ config: read('config.json').toString(), weights });
    expect(paramsOf(inMemory.model)).toEqual(paramsOf(fromDisk.model));
    // Named tensors instead of files: the model takes them over, the caller's handles stay valid.
    const tensors = new Map(fromDisk.model.stateDict());
    const fromTensors = await loadModelFromFiles({ config: JSON.parse(read('config.json').toString()), weights: tensors });
    expect(logitsOf(fromTensors.model)).toEqual(logitsOf(fromDisk.model));
    await expect(loadModelFromFiles({ config: read('config.json').toString(), weights: new Map([...weights, ['again.safetensors', read('model-00001-of-00002.safetensors')]]) })).rejects.toThrow(
      /tensor "model\.\S+" appears twice \(again in again\.safetensors\)/,
    );
    for (const m of [fromDisk.model, inMemory.model]) m.dispose();
  });

  it('saves and loads the tokenizer files beside the model', async () => {
    const { model } = await loadModel(join(FIXTURES, 'tiny-qwen2'));
    const tok = trainBpe(['hello world', 'hello there', 'world peace'].flatMap((t) => [t, t, t]), { vocabSize: 280, specialTokens: ['<|endoftext|>'] });
    const dir = freshDir();
    await saveModel(model, dir, { tokenizer: tok });
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const back = await loadModel(dir);
    expect(back.tokenizer!.encode('hello world').ids).toEqual(tok.encode('hello world').ids);
    expect((await loadModel(join(FIXTURES, 'tiny-qwen2'))).tokenizer).toBeNull();
    model.dispose();
    back.model.dispose();
  });

  it('reads generation_config.json into generate options and writes it back', async () => {
    const { model } = await loadModel(join(FIXTURES, 'tiny-llama'));
    const dir = freshDir();
    const generationConfig = { bos_token_id: 1, eos_token_id: [2, 5], do_sample: true, temperature: 0.6, top_p: 0.9, max_new_tokens: 7 };
    await saveModel(model, dir, { generationConfig });
    const back = await loadModel(dir);
    expect(back.generationDefaults).toEqual({ eosTokenId: [2, 5], doSample: true, temperature: 0.6, topP: 0.9, maxNewTokens: 7 });
    expect(back.generationConfig).toEqual(generationConfig);
    const inMemory = await loadModelFromFiles({ config: readFileSync(join(dir, 'config.json'), 'utf8'), weights: { 'model.safetensors': readFileSync(join(dir, 'model.safetensors')) }, generationConfig: '{"eos_token_id": 9}' });
    expect(inMemory.generationDefaults).toEqual({ eosTokenId: [9] });
    expect((await loadModel(join(FIXTURES, 'tiny-llama'))).generationDefaults).toEqual({});
    expect(() => parseGenerationConfig({ max_new_tokens: 0 })).toThrow(/generation_config.json: "max_new_tokens" must be a positive integer, got 0/);
    for (const m of [model, back.model, inMemory.model]) m.dispose();
  });

  it('explains broken folders: missing files, unexpected or missing tensors, wrong shapes, missing shards', async () => {
    await expect(loadModel(join(scratch, 'nope'))).rejects.toThrow(/cannot read the folder .*nope \(ENOENT\)/);
    const empty = freshDir();
    await saveModel((await loadModel(join(FIXTURES, 'tiny-qwen2'))).model, empty);
    rmSync(join(empty, 'config.json'));
    await expect(loadModel(empty)).rejects.toThrow(/has no config.json \(found: model.safetensors\)/);

    const noWeights = freshDir();
    await saveModel((await loadModel(join(FIXTURES, 'tiny-qwen2'))).model, noWeights);
    rmSync(join(noWeights, 'model.safetensors'));
    writeFileSync(join(noWeights, 'pytorch_model.bin'), 'x');
    await expect(loadModel(noWeights)).rejects.toThrow(/no model.safetensors or model.safetensors.index.json \(found pytorch_model.bin: only safetensors checkpoints are supported/);

    const config = readFileSync(join(FIXTURES, 'tiny-llama', 'config.json'), 'utf8');
    const file = readSafetensors(readFileSync(join(FIXTURES, 'tiny-llama', 'model.safetensors')));
    const renamed = new Map([...file.tensors].map(([k, v]) => [k.replace('layers.1.mlp', 'layers.1.ffn'), v]));
    const before = memory().numUndisposed;
    await expect(loadModelFromFiles({ config, weights: { 'model.safetensors': serializeSafetensors(renamed as never) } })).rejects.toThrow(
      /missing 3: model.layers.1.mlp.gate_proj.weight, model.layers.1.mlp.up_proj.weight, model.layers.1.mlp.down_proj.weight; unexpected 3: model.layers.1.ffn.down_proj.weight/,
    );
    expect(memory().numUndisposed).toBe(before); // the half-built model is freed
    const wider = JSON.stringify({ ...JSON.parse(config), intermediate_size: 80 });
    await expect(loadModelFromFiles({ config: wider, weights: { 'model.safetensors': serializeSafetensors(file.tensors) } })).rejects.toThrow(
      /wrong shape 6: model.layers.0.mlp.gate_proj.weight \[64,32\] \(expected \[80,32\]\)/,
    );
    await expect(loadModelFromFiles({ config: JSON.stringify({ ...JSON.parse(config), model_type: 'bert' }), weights: {} })).rejects.toThrow(
      /model_type "bert" is not supported; supported: llama, mistral, qwen2, qwen3; load GPT-2 and BERT folders with loadGPT2OrBert/,
    );

    const sharded = copyFixture('tiny-qwen3');
    rmSync(join(sharded, 'model-00002-of-00002.safetensors'));
    await expect(loadModel(sharded)).rejects.toThrow(/names shards that are not in the folder: model-00002-of-00002.safetensors; download every shard/);
    writeFileSync(join(sharded, 'model-00002-of-00002.safetensors'), new Uint8Array([1, 2, 3]));
    await expect(loadModel(sharded)).rejects.toThrow(/model-00002-of-00002.safetensors: safetensors: .*8-byte header length/);
  });
});
