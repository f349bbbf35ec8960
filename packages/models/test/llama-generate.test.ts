// Generation: cache against full recomputation, left-padded batches against single rows, sampling
// options, stop conditions, streaming, memory, errors.
import { describe, expect, it } from 'vitest';
import { Generator, memory, registerBackend, tensor, tidy } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { noGrad } from '@tessera/autograd';
import { trainBpe } from '@tessera/tokenizers';
import {
  LlamaForCausalLM,
  applyRepetitionPenalty,
  applyTopK,
  applyTopP,
  generate,
  generateStream,
  llamaConfig,
  type LlamaConfig,
} from '../src/index.js';

// Registered at import time: the describe bodies below build models while collecting tests.
registerBackend(createCpuBackend());

function tinyModel(fields: Partial<LlamaConfig> = {}, seed = 7): LlamaForCausalLM {
  const config = llamaConfig({
    vocabSize: 96,
    hiddenSize: 32,
    intermediateSize: 64,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    eosTokenIds: [],
    initializerRange: 0.3,
    ...fields,
  });
  return new LlamaForCausalLM(config, { generator: new Generator(seed) });
}

/** Greedy decoding by recomputing the whole sequence every step (no cache, no positions): the reference. */
function greedyByRecompute(model: LlamaForCausalLM, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = noGrad(() => tidy(() => model.forward(tensor([seq], { dtype: 'i32' })).logits.slice(1, seq.length - 1, seq.length).contiguous()));
    const v = logits.dataSync();
    logits.dispose();
    let best = 0;
    for (let j = 1; j < v.length; j++) if (v[j]! > v[best]!) best = j;
    seq.push(best);
  }
  return seq.slice(prompt.length);
}

describe('generate', () => {
  const model = tinyModel();

  it('greedy decoding with the KV cache equals recomputing the full sequence', async () => {
    const prompt = [5, 17, 33, 2, 60];
    const { tokens, finishReasons } = await generate(model, prompt, { maxNewTokens: 10 });
    expect(tokens[0]).toEqual(greedyByRecompute(model, prompt, 10));
    expect(finishReasons).toEqual(['length']);
  });

  it('a left-padded batch gives each row the tokens of its unpadded single run', async () => {
    const prompts = [[5, 17, 33, 2, 60], [9, 4], [70, 71, 72]];
    const singles = await Promise.all(prompts.map(async (p) => (await generate(model, p, { maxNewTokens: 8 })).tokens[0]));
    const t = Math.max(...prompts.map((p) => p.length));
    const ids = prompts.map((p) => [...Array(t - p.length).fill(0), ...p]);
    const mask = prompts.map((p) => [...Array(t - p.length).fill(0), ...p.map(() => 1)]);
    const batched = await generate(model, ids, { attentionMask: mask, maxNewTokens: 8 });
    expect(batched.tokens).toEqual(singles);
    // The same through tensors, with a repetition penalty (padding is not a "present" token).
    const viaTensors = await generate(model, tensor(ids, { dtype: 'i32' }), { attentionMask: tensor(mask, { dtype: 'i32' }), maxNewTokens: 8, repetitionPenalty: 1.5 });
    const singlesPenalised = await Promise.all(prompts.map(async (p) => (await generate(model, p, { maxNewTokens: 8, repetitionPenalty: 1.5 })).tokens[0]));
    expect(viaTensors.tokens).toEqual(singlesPenalised);
  });

  it('leaves no tensors behind, also when a stream is stopped early', async () => {
    const before = memory().numUndisposed;
    await generate(model, [[1, 2, 3], [0, 4, 5]], { attentionMask: [[1, 1, 1], [0, 1, 1]], maxNewTokens: 5, doSample: true, topK: 5 });
    expect(memory().numUndisposed).toBe(before);
    for await (const e of generateStream(model, [1, 2, 3], { maxNewTokens: 50 })) if (e.step === 2) break;
    expect(memory().numUndisposed).toBe(before);
  });

  it('sampling is deterministic for a seed and differs between seeds; top-k 1 and tiny top-p are greedy', async () => {
    const prompt = [3, 8, 13];
    const o = { maxNewTokens: 12, doSample: true, temperature: 1.5 };
    const a = await generate(model, prompt, { ...o, seed: 1 });
    const b = await generate(model, prompt, { ...o, seed: 1 });
    const c = await generate(model, prompt, { ...o, seed: 2 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    const greedy = await generate(model, prompt, { maxNewTokens: 12 });
    expect((await generate(model, prompt, { ...o, topK: 1, seed: 3 })).tokens).toEqual(greedy.tokens);
    expect((await generate(model, prompt, { ...o, topP: 1e-6, seed: 4 })).tokens).toEqual(greedy.tokens);
    // A generator continues its sequence: two calls on one generator differ, a reseeded one repeats.
    const g = new Generator(5);
    const first = await generate(model, prompt, { ...o, generator: g });
    const second = await generate(model, prompt, { ...o, generator: g });
    expect(second.tokens).not.toEqual(first.tokens);
    expect((await generate(model, prompt, { ...o, generator: new Generator(5) })).tokens).toEqual(first.tokens);
  });

  it('top-k keeps the k most likely tokens: samples stay among them', async () => {
    const prompt = [3, 8, 13];
    const logits = noGrad(() => tidy(() => model.forward(tensor([prompt], { dtype: 'i32' })).logits.slice(1, 2, 3).contiguous()));
    const v = Array.from(logits.dataSync());
    logits.dispose();
    const top3 = v.map((x, i) => [x, i] as const).sort((p, q) => q[0] - p[0]).slice(0, 3).map(([, i]) => i);
    const seen = new Set<number>();
    for (let seed = 0; seed < 30; seed++) seen.add((await generate(model, prompt, { maxNewTokens: 1, doSample: true, topK: 3, temperature: 5, seed })).tokens[0]![0]!);
    expect([...seen].every((t) => top3.includes(t))).toBe(true);
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a strong repetition penalty keeps greedy decoding from repeating tokens', async () => {
    const prompt = [3, 8, 13];
    const plain = (await generate(model, prompt, { maxNewTokens: 20 })).tokens[0]!;
    const penalised = (await generate(model, prompt, { maxNewTokens: 20, repetitionPenalty: 1e6 })).tokens[0]!;
    expect(new Set([...prompt, ...plain]).size).toBeLessThan(prompt.length + plain.length); // the plain run repeats
    expect(new Set([...prompt, ...penalised]).size).toBe(prompt.length + penalised.length);
  });

  it('stops on EOS ids (from the config or the options) and pads finished rows', async () => {
    const prompt = [5, 17, 33];
    const free = (await generate(model, prompt, { maxNewTokens: 10 })).tokens[0]!;
    const eos = free[3]!;
    const stopped = await generate(model, prompt, { maxNewTokens: 10, eosTokenId: eos });
    expect(stopped.tokens[0]).toEqual(free.slice(0, free.indexOf(eos) + 1));
    expect(stopped.finishReasons).toEqual(['eos']);
    const withConfigEos = tinyModel({ eosTokenIds: [eos] });
    expect((await generate(withConfigEos, prompt, { maxNewTokens: 10 })).tokens[0]).toEqual(stopped.tokens[0]);
    // In a batch, the other row runs on, unaffected.
    const other = [40, 41];
    const alone = (await generate(model, other, { maxNewTokens: 10, eosTokenId: eos })).tokens[0]!;
    const batch = await generate(model, [prompt, [0, ...other]], { attentionMask: [[1, 1, 1], [0, 1, 1]], maxNewTokens: 10, eosTokenId: eos });
    expect(batch.tokens).toEqual([stopped.tokens[0], alone]);
  });

  it('streams tokens through onToken and the async iterator, in order', async () => {
    const seen: number[] = [];
    const result = await generate(model, [1, 2, 3], { maxNewTokens: 6, onToken: (e) => seen.push(e.token) });
    expect(seen).toEqual(result.tokens[0]);
    const streamed: number[] = [];
    const it = generateStream(model, [1, 2, 3], { maxNewTokens: 6 });
    let last = await it.next();
    while (!last.done) {
      streamed.push(last.value.token);
      last = await it.next();
    }
    expect(streamed).toEqual(result.tokens[0]);
    expect(last.value.tokens).toEqual(result.tokens);
  });

  it('stops on stop strings with a real tokenizer, including the token that completes them', async () => {
    const corpus = ['the cat sat on the mat', 'a dog ran in the park', 'hello world, hello there', 'numbers 123 and 456'];
    const tok = trainBpe(Array.from({ length: 20 }, () => corpus).flat(), { vocabSize: 120, specialTokens: ['<|end|>'], byteLevel: false });
    const vocab = tok.getVocab().size;
    const m = tinyModel({ vocabSize: vocab }, 11);
    const prompt = tok.encode('the cat').ids;
    const free = await generate(m, prompt, { maxNewTokens: 12, tokenizer: tok });
    expect(free.text![0]).toBe(tok.decode(free.tokens[0]!, { skipSpecialTokens: true }));
    // Pick a stop string the free run completes at token 5: the last two characters up to there.
    const upTo = (k: number): string => tok.decode(free.tokens[0]!.slice(0, k), { skipSpecialTokens: true });
    let k = 5;
    while (k < 12 && (upTo(k).length < 2 || upTo(k - 1).includes(upTo(k).slice(-2)))) k++;
    const stop = upTo(k).slice(-2);
    const stopped = await generate(m, prompt, { maxNewTokens: 12, tokenizer: tok, stopStrings: ['never-appears', stop] });
    const first = Array.from({ length: 12 }, (_, i) => i + 1).find((i) => upTo(i).includes(stop))!;
    expect(stopped.tokens[0]).toEqual(free.tokens[0]!.slice(0, first));
    expect(stopped.finishReasons).toEqual(['stop']);
    // Streamed text deltas add up to the decoded text.
    let text = '';
    await generate(m, prompt, { maxNewTokens: 12, tokenizer: tok, onToken: (e) => (text += e.textDelta ?? '') });
    expect(text).toBe(free.text![0]);
  });

  it('rejects bad options with errors that name them', async () => {
    await expect(generate(model, [1, 2], { doSample: true, temperature: 0 })).rejects.toThrow(/temperature must be a positive number, got 0/);
    await expect(generate(model, [1, 2], { topP: 0 })).rejects.toThrow(/topP must be in \(0, 1\]/);
    await expect(generate(model, [1, 2], { topK: 1.5 })).rejects.toThrow(/topK must be a non-negative integer/);
    await expect(generate(model, [1, 2], { stopStrings: ['x'] })).rejects.toThrow(/stopStrings need a tokenizer/);
    await expect(generate(model, [[1, 2], [3, 0]], { attentionMask: [[1, 1], [1, 0]] })).rejects.toThrow(/row 1 of attentionMask is not left-padded/);
    await expect(generate(model, [[1, 2], [3]])).rejects.toThrow(/rows of inputIds differ in length/);
    await expect(generate(model, [1, 2], { maxNewTokens: -1 })).rejects.toThrow(/maxNewTokens must be a non-negative integer/);
  });
});

describe('logits processors (transformers semantics)', () => {
  it('repetition penalty divides positive and multiplies negative logits of present tokens, once each', () => {
    const s = Float32Array.from([2, -2, 1, 4]);
    applyRepetitionPenalty(s, [0, 1, 1, 3], 2);
    expect(Array.from(s)).toEqual([1, -4, 1, 2]);
  });

  it('top-k keeps ties with the k-th value; top-p keeps the smallest set reaching p', () => {
    const s = Float32Array.from([1, 3, 3, 2, 0]);
    applyTopK(s, 2);
    expect(Array.from(s)).toEqual([-Infinity, 3, 3, -Infinity, -Infinity]);
    // probabilities 0.5, 0.3, 0.15, 0.05: p = 0.8 keeps the first two
    const p = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
    applyTopP(p, 0.8);
    expect(Array.from(p).map((x) => x > -Infinity)).toEqual([true, true, false, false]);
    const q = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
    applyTopP(q, 0.81);
    expect(Array.from(q).map((x) => x > -Infinity)).toEqual([true, true, true, false]);
  });
});
