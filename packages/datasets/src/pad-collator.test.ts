import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numRuns } from '../test/tokenizers.js';
import { batchByTokens, bucketByLength, padCollate } from './index.js';

const seq = (n: number): { inputIds: number[]; labels: number[] } => ({ inputIds: Array.from({ length: n }, (_, i) => i + 1), labels: Array.from({ length: n }, (_, i) => i + 1) });

describe('padCollate', () => {
  it('pads right with -100 labels and a 0 mask, to a multiple', () => {
    const b = padCollate([seq(3), seq(1)], { padId: 9, padToMultipleOf: 4 });
    expect(b.shape).toEqual([2, 4]);
    expect([...b.inputIds]).toEqual([1, 2, 3, 9, 1, 9, 9, 9]);
    expect([...b.labels]).toEqual([1, 2, 3, -100, 1, -100, -100, -100]);
    expect([...b.attentionMask]).toEqual([1, 1, 1, 0, 1, 0, 0, 0]);
    expect([...b.positionIds]).toEqual([0, 1, 2, 0, 0, 0, 0, 0]);
  });

  it('pads left (for generation) and names an impossible length', () => {
    const b = padCollate([seq(1), seq(2)], { padId: 0, paddingSide: 'left' });
    expect([...b.inputIds]).toEqual([0, 1, 1, 2]);
    expect(() => padCollate([seq(5)], { padId: 0, padToLength: 3 })).toThrow(/padToLength 3 is shorter than the longest example \(5\)/);
  });
});

describe('length batching', () => {
  it('bucketByLength covers every example once, deterministically, in batches of similar length (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 80 }), fc.integer({ min: 1, max: 8 }), fc.integer(), (lens, batchSize, seed) => {
        const xs = lens.map(seq);
        const batches = bucketByLength(xs, { batchSize, seed, windowBatches: 4 });
        expect(batches).toEqual(bucketByLength(xs, { batchSize, seed, windowBatches: 4 }));
        expect(batches.flat().sort((a, b) => a - b)).toEqual(xs.map((_, i) => i));
        expect(batches.every((b) => b.length <= batchSize)).toBe(true);
      }),
      { numRuns },
    );
  });

  it('bucketing pads less than random batching', () => {
    const xs = Array.from({ length: 400 }, (_, i) => seq(1 + ((i * 37) % 97)));
    const padded = (batches: number[][]): number => batches.reduce((s, b) => s + b.length * Math.max(...b.map((i) => xs[i]!.inputIds.length)), 0);
    const random = Array.from({ length: 50 }, (_, k) => Array.from({ length: 8 }, (__, j) => k * 8 + j));
    expect(padded(bucketByLength(xs, { batchSize: 8, seed: 1 }))).toBeLessThan(0.7 * padded(random));
  });

  it('batchByTokens keeps count × longest within the budget (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 60 }), fc.integer({ min: 64, max: 512 }), fc.boolean(), (lens, maxTokens, sortByLength) => {
        const xs = lens.map(seq);
        const batches = batchByTokens(xs, { maxTokens, sortByLength });
        expect(batches.flat().sort((a, b) => a - b)).toEqual(xs.map((_, i) => i));
        for (const b of batches) expect(b.length * Math.max(...b.map((i) => lens[i]!))).toBeLessThanOrEqual(maxTokens);
      }),
      { numRuns },
    );
    expect(() => batchByTokens([seq(10)], { maxTokens: 5 })).toThrow(/example 0 has 10 tokens, more than maxTokens 5/);
  });
});
