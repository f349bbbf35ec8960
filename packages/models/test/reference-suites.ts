// The PyTorch fixture comparisons as suites parameterised by backend: the CPU test files
// (llama-reference, gpt2, bert) and reference.gpu.test.ts run the same checks with the same
// tolerances (compare in reference-check.ts: 1e-4 relative, with a floor of 1e-5 of the tensor's scale).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Module } from '@tessera/nn';
import { memory, type Tensor } from '@tessera/tensor';
import { BertForSequenceClassification, GPT2LMHeadModel, loadGPT2OrBert, loadModel } from '../src/index.js';
import { FIXTURES, checkAdamW, checkGradients, compare, fmt, readReference, type Reference } from './reference-check.js';

/** The Llama-family fixtures of scripts/reference/llama_reference.py. */
export const LLAMA_FIXTURES = ['tiny-llama', 'tiny-qwen2', 'tiny-qwen3', 'tiny-mistral'] as const;

/** Max errors per fixture, printed by the test files after the suites ran. */
export const report: Record<string, Record<string, string>> = {};
function record(key: string, what: string, value: string): void {
  (report[key] ??= {})[what] = value;
}

/** Token logits at padding positions are implementation-defined (transformers' kernels disagree there too); the loss never reads them. */
async function checkLogits(logits: Tensor, ref: Reference): Promise<string> {
  const mask = ref.i32('attention_mask');
  const last = logits.shape[logits.rank - 1]!;
  const keep = logits.rank === 3 ? (i: number) => mask[Math.floor(i / last)] === 1 : undefined;
  return fmt(compare('logits', await logits.data(), ref.f32('logits'), keep));
}

/** Logits, loss, gradients and AdamW steps of a loaded model against its fixture. */
function checkTraining(device: string, key: string, ref: Reference, load: () => Promise<Module>, run: (m: Module) => { logits: Tensor; loss?: Tensor }, tensors: number | null, noisyBound?: number): void {
  it('logits, loss and every gradient match', async () => {
    const model = await load();
    const before = memory().numUndisposed;
    const { logits, loss, worst, count } = await checkGradients(model, ref, run);
    expect([logits.device, loss.device, model.parameters()[0]!.device]).toEqual([device, device, device]);
    record(key, 'logits', await checkLogits(logits, ref));
    record(key, 'loss', fmt(compare('loss', await loss.data(), ref.f32('loss'))));
    record(key, `gradients (${count} tensors, worst)`, fmt(worst));
    if (tensors !== null) expect(count).toBe(tensors);
    expect(count).toBeGreaterThan(0);
    logits.dispose();
    loss.dispose();
    // Inputs, activations and gradients are all freed: only the parameters stay.
    expect(memory().numUndisposed).toBe(before);
    model.dispose();
  });

  it('three AdamW steps (HF no-decay rule) land on the same parameters', async () => {
    const model = await load();
    const before = memory().numUndisposed;
    const { losses, params, noisy, worstNoisy } = await checkAdamW(model, ref, run, noisyBound);
    expect(memory().numUndisposed).toBe(before); // gradients and AdamW moments freed
    record(key, 'adamw losses', fmt(losses));
    record(key, 'params after 3 AdamW steps (worst)', fmt(params));
    record(key, 'noise-level-gradient elements after AdamW', `${noisy}, max abs ${worstNoisy.toExponential(2)} (lr 1e-3)`);
    model.dispose();
  });
}

/** Llama, Qwen2, Qwen3 and Mistral (sliding window) against PyTorch on `device`, plus greedy generation token for token. */
export function llamaReferenceSuite(device: string): void {
  describe.each(LLAMA_FIXTURES)(`%s against PyTorch (${device})`, (fixture) => {
    const ref = readReference(fixture);
    const load = async () => (await loadModel(join(FIXTURES, fixture), { backend: device })).model;
    const run = (m: Module) =>
      (m as Awaited<ReturnType<typeof load>>).forward(ref.int('input_ids', device), {
        attentionMask: ref.int('attention_mask', device),
        labels: ref.int('labels', device),
      });

    it('greedy generation matches token for token', async () => {
      const model = await load();
      expect(model.device).toBe(device);
      const before = memory().numUndisposed;
      const { tokens } = await model.generate(ref.rows('generate.prompt'), { maxNewTokens: 8, eosTokenId: [] });
      expect(tokens[0]).toEqual(Array.from(ref.i32('generate.tokens')));
      expect(memory().numUndisposed).toBe(before); // the KV cache and every step's tensors freed
      model.dispose();
    });

    // AdamW divides each gradient element by its own RMS, so an element whose gradient is tiny next
    // to its tensor's (k_proj.bias along slow RoPE frequencies, to which softmax is nearly
    // invariant: ~1e-6) moves by lr times a ratio of rounding noise: held to a tenth of a step.
    checkTraining(device, `${fixture} (${device})`, ref, load, run, null, 0.1 * 1e-3);
  });
}

/** GPT-2 (tied head, Conv1D weights) against PyTorch on `device`. */
export function gpt2ReferenceSuite(device: string): void {
  describe(`tiny-gpt2 against PyTorch (${device})`, () => {
    const ref = readReference('tiny-gpt2');
    const load = async () => {
      const loaded = await loadGPT2OrBert(join(FIXTURES, 'tiny-gpt2'), { backend: device });
      if (loaded.kind !== 'gpt2') throw new Error('tiny-gpt2 is not a GPT-2');
      expect(loaded.model.device).toBe(device);
      return loaded.model;
    };
    const run = (m: Module) =>
      (m as GPT2LMHeadModel).forward(ref.int('input_ids', device), { attentionMask: ref.int('attention_mask', device), labels: ref.int('labels', device) });
    checkTraining(device, `tiny-gpt2 (${device})`, ref, load, run, 4 + 12 * 2);
  });
}

/** BERT with the sequence- and token-classification heads against PyTorch on `device`. */
export function bertReferenceSuite(device: string): void {
  describe.each([
    ['tiny-bert-seq', 'BertForSequenceClassification', 5 + 16 * 2 + 2 + 2],
    ['tiny-bert-token', 'BertForTokenClassification', 5 + 16 * 2 + 2],
  ] as const)(`%s against PyTorch (${device})`, (fixture, head, tensors) => {
    const ref = readReference(fixture);
    const load = async () => {
      const loaded = await loadGPT2OrBert(join(FIXTURES, fixture), { backend: device });
      expect(loaded.model.constructor.name).toBe(head);
      return loaded.model;
    };
    const run = (m: Module) =>
      (m as BertForSequenceClassification).forward(ref.int('input_ids', device), {
        attentionMask: ref.int('attention_mask', device),
        tokenTypeIds: ref.int('token_type_ids', device),
        labels: ref.int('labels', device),
      });
    checkTraining(device, `${fixture} (${device})`, ref, load, run, tensors);
  });
}

/** A last test that prints `report` (the max errors of the suites of this file). */
export function reportSuite(): void {
  describe('report', () => {
    it('max errors against PyTorch', () => {
      console.log(JSON.stringify(report, null, 2));
    });
  });
}
