// Properties over random small Llama-family models and inputs: cached decoding equals the full
// forward, left padding changes nothing for the real tokens, and the logits processors keep their
// contracts. Runs: FC_NUM_RUNS (default 20; CI sets 100).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, registerBackend, tensor, tidy } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { noGrad } from '@tessera/autograd';
import { KVCache } from '@tessera/nn';
import { LlamaForCausalLM, applyRepetitionPenalty, applyTopK, applyTopP, llamaConfig, softmaxOf } from '../src/index.js';

registerBackend(createCpuBackend());
const numRuns = Number(process.env.FC_NUM_RUNS ?? 20);

const modelArb = fc.record({
  family: fc.constantFrom('llama' as const, 'qwen2' as const, 'qwen3' as const),
  kvHeads: fc.constantFrom(1, 2, 4),
  headDim: fc.constantFrom(4, 8),
  tie: fc.boolean(),
  seed: fc.nat(1000),
});

function build(p: { family: 'llama' | 'qwen2' | 'qwen3'; kvHeads: number; headDim: number; tie: boolean; seed: number }): LlamaForCausalLM {
  const config = llamaConfig({
    modelType: p.family,
    vocabSize: 40,
    hiddenSize: 16,
    intermediateSize: 24,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: p.kvHeads,
    headDim: p.headDim,
    qkvBias: p.family === 'qwen2',
    qkNorm: p.family === 'qwen3',
    tieWordEmbeddings: p.tie,
    initializerRange: 0.3,
  });
  return new LlamaForCausalLM(config, { generator: new Generator(p.seed) });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const ids = (n: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max: 39 }), { minLength: n, maxLength: n });

describe('Llama properties', () => {
  it('decoding the last tokens one at a time through the cache gives the full-forward logits', () => {
    fc.assert(
      fc.property(modelArb, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (p, prefix, extra, s) => {
        const m = build(p);
        const seq = fc.sample(ids(prefix + extra), { seed: s, numRuns: 1 })[0]!;
        const v = 40;
        const full = noGrad(() => tidy(() => m.forward(tensor([seq], { dtype: 'i32' })).logits.dataSync()));
        const cache = new KVCache();
        noGrad(() => tidy(() => void m.forward(tensor([seq.slice(0, prefix)], { dtype: 'i32' }), { cache })));
        for (let t = prefix; t < seq.length; t++) {
          const step = noGrad(() => tidy(() => m.forward(tensor([[seq[t]!]], { dtype: 'i32' }), { cache }).logits.dataSync()));
          expect(maxDiff(step, full.subarray(t * v, (t + 1) * v))).toBeLessThan(1e-4);
        }
        cache.dispose();
        m.dispose();
      }),
      { numRuns },
    );
  });

  it('left padding with per-row positions leaves the real tokens’ logits unchanged', () => {
    fc.assert(
      fc.property(modelArb, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(), (p, len, pad, s) => {
        const m = build(p);
        const seq = fc.sample(ids(len), { seed: s, numRuns: 1 })[0]!;
        const alone = noGrad(() => tidy(() => m.forward(tensor([seq], { dtype: 'i32' })).logits.dataSync()));
        const padded = noGrad(() =>
          tidy(() =>
            m
              .forward(tensor([[...Array(pad).fill(0), ...seq]], { dtype: 'i32' }), {
                attentionMask: tensor([[...Array(pad).fill(0), ...seq.map(() => 1)]], { dtype: 'i32' }),
                positionIds: tensor([[...Array(pad).fill(1), ...seq.map((_, i) => i)]], { dtype: 'i32' }),
              })
              .logits.slice(1, pad, pad + len)
              .contiguous()
              .dataSync(),
          ),
        );
        expect(maxDiff(padded, alone)).toBeLessThan(1e-4);
        m.dispose();
      }),
      { numRuns },
    );
  });

  it('top-k keeps exactly the logits at or above the k-th largest; top-p keeps a minimal set reaching p', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 30 }), fc.integer({ min: 1, max: 30 }), fc.double({ min: 0.05, max: 1, noNaN: true }), (values, k, p) => {
        const s = Float32Array.from(values);
        const kth = [...s].sort((a, b) => b - a)[Math.min(k, s.length) - 1]!;
        const kept = Float32Array.from(s);
        applyTopK(kept, k);
        kept.forEach((x, i) => expect(x === -Infinity).toBe(s[i]! < kth));

        const probs = softmaxOf(s);
        const nucleus = Float32Array.from(s);
        applyTopP(nucleus, p);
        const keptIds = [...nucleus.keys()].filter((i) => nucleus[i]! > -Infinity);
        const mass = keptIds.reduce((a, i) => a + probs[i]!, 0);
        expect(keptIds.length).toBeGreaterThan(0);
        expect(mass).toBeGreaterThanOrEqual(Math.min(p, 1) - 1e-6);
        // Every kept token is at least as likely as every dropped one.
        const minKept = Math.min(...keptIds.map((i) => s[i]!));
        s.forEach((x, i) => {
          if (nucleus[i] === -Infinity) expect(x).toBeLessThanOrEqual(minKept);
        });
      }),
      { numRuns: numRuns * 5 },
    );
  });

  it('the repetition penalty lowers present tokens and leaves the others alone', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 20 }), fc.array(fc.nat(25)), fc.double({ min: 1, max: 5, noNaN: true }), (values, present, penalty) => {
        const s = Float32Array.from(values);
        const out = Float32Array.from(s);
        applyRepetitionPenalty(out, present, penalty);
        s.forEach((x, i) => {
          if (present.includes(i)) expect(out[i]!).toBeLessThanOrEqual(x);
          else expect(out[i]).toBe(x);
        });
      }),
      { numRuns: numRuns * 5 },
    );
  });
});
