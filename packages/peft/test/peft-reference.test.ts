// Compatibility with Hugging Face PEFT's files, both ways, against scripts/reference/peft_reference.py:
// Tessera reproduces the logits of adapters written in PEFT's layout, and the adapter Tessera writes
// (committed under fixtures/tessera-llama-lora) is the one the script verified with PyTorch.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, add, mul, randn, registerBackend, tensor, tidy } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { readSafetensors, serializeSafetensors, toTypedArray } from '@tessera/safetensors';
import { loadModel } from '@tessera/models';
import { PeftModel, adapterFiles, fromPeftJson, loadAdapterFiles } from '../src/index.js';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const llamaDir = new URL('../../models/test/fixtures/tiny-llama', import.meta.url).pathname;

beforeAll(() => {
  registerBackend(createCpuBackend());
});

async function expected(dir: string) {
  const st = readSafetensors(await readFile(join(dir, 'expected.safetensors')));
  const get = (n: string) => st.tensors.get(n)!;
  return {
    ids: tensor(toTypedArray(get('input_ids')) as Int32Array, { shape: [...get('input_ids').shape], dtype: 'i32' }),
    mask: tensor(toTypedArray(get('attention_mask')) as Int32Array, { shape: [...get('attention_mask').shape], dtype: 'i32' }),
    logits: Float32Array.from(toTypedArray(get('logits')) as Float32Array),
  };
}

describe('PEFT adapters written by the reference script', () => {
  for (const name of ['peft-llama-lora', 'peft-llama-dora']) {
    it(`${name}: Tessera reproduces the adapted logits`, async () => {
      const dir = join(fixtures, name);
      const { model } = await loadModel(llamaDir);
      const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
      const peft = new PeftModel(model, fromPeftJson(config));
      loadAdapterFiles(peft, { config, weights: await readFile(join(dir, 'adapter_model.safetensors')) });
      const want = await expected(dir);
      const got = model.forward(want.ids, { attentionMask: want.mask }).logits.dataSync();
      let maxErr = 0;
      got.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - want.logits[i]!))));
      expect(maxErr).toBeLessThan(1e-4);
    });
  }
});

/** A deterministic adapter made and trained-looking in Tessera: what the committed fixture must equal. */
async function tesseraAdapter(): Promise<{ config: string; weights: Uint8Array; expected: Uint8Array }> {
  const { model } = await loadModel(llamaDir);
  const peft = new PeftModel(model, { r: 2, loraAlpha: 4, useRslora: true, targetModules: ['q_proj', 'k_proj', 'gate_proj'] }, 'default', { generator: new Generator(21) });
  const gen = new Generator(22);
  for (const [, p] of model.trainableParameters()) tidy(() => void p.assign(add(p, mul(randn(p.shape, { generator: gen }), 0.05))));
  const ids = tensor([[5, 9, 13, 2, 40, 7], [11, 3, 3, 60, 21, 8]], { dtype: 'i32' });
  const mask = tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]], { dtype: 'i32' });
  const logits = model.forward(ids, { attentionMask: mask }).logits;
  const files = await adapterFiles(peft);
  const expectedBytes = serializeSafetensors(
    {
      input_ids: { dtype: 'I32', shape: [2, 6], data: ids.dataSync() as Int32Array },
      attention_mask: { dtype: 'I32', shape: [2, 6], data: mask.dataSync() as Int32Array },
      logits: { dtype: 'F32', shape: [...logits.shape], data: logits.dataSync() as Float32Array },
    },
    { format_version: '1' },
  );
  return { ...files, expected: expectedBytes };
}

describe('adapters written by Tessera', () => {
  it('equal the committed fixture that PyTorch verified (peft_reference.py --verify)', async () => {
    const made = await tesseraAdapter();
    const dir = join(fixtures, 'tessera-llama-lora');
    if (process.env.TESSERA_UPDATE_FIXTURES === '1') {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'adapter_config.json'), made.config);
      await writeFile(join(dir, 'adapter_model.safetensors'), made.weights);
      await writeFile(join(dir, 'expected.safetensors'), made.expected);
    }
    expect(made.config).toBe(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    expect(Buffer.from(made.weights).equals(await readFile(join(dir, 'adapter_model.safetensors')))).toBe(true);
    const committed = await expected(dir);
    const now = readSafetensors(made.expected).tensors.get('logits')!;
    const nowLogits = toTypedArray(now) as Float32Array;
    nowLogits.forEach((v, i) => expect(Math.abs(v - committed.logits[i]!)).toBeLessThan(1e-5));
  });
});

// CI installs Debian's PyTorch, so there this runs (and fails if torch is missing); elsewhere it runs when torch is present.
const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const script = new URL('../scripts/reference/peft_reference.py', import.meta.url).pathname;

describe('peft_reference.py (PyTorch)', () => {
  it.skipIf(!hasTorch && !process.env.CI)('verifies the adapter Tessera wrote', () => {
    const run = spawnSync(PYTHON, [script, '--verify', join(fixtures, 'tessera-llama-lora')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/max \|logits - Tessera's\| = /);
  });
});
