import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numRuns } from '../test/tokenizers.js';
import { IGNORE_INDEX, packedAttentionMask, packSequences, padCollate, unpackSequence, type SequenceExample } from './index.js';

const ex = (ids: number[], labels = ids): SequenceExample => ({ inputIds: ids, labels });

describe('packSequences', () => {
  it('lays examples end to end with per-example positions and a block-diagonal causal mask', () => {
    const [p] = packSequences([ex([1, 2, 3]), ex([4, 5])], { maxLength: 8, strategy: 'greedy' });
    expect([...p!.inputIds]).toEqual([1, 2, 3, 4, 5]);
    expect([...p!.positionIds]).toEqual([0, 1, 2, 0, 1]);
    expect([...p!.segmentIds]).toEqual([0, 0, 0, 1, 1]);
    expect([...p!.cuSeqLens]).toEqual([0, 3, 5]);
    expect([...p!.labels]).toEqual([IGNORE_INDEX, 2, 3, IGNORE_INDEX, 5]);
    const rows = (m: Uint8Array, t: number): string[] => Array.from({ length: t }, (_, i) => [...m.subarray(i * t, i * t + t)].join(''));
    expect(rows(packedAttentionMask(p!.segmentIds), 5)).toEqual(['10000', '11000', '11100', '00010', '00011']);
    expect(rows(packedAttentionMask(p!.segmentIds, { causal: false }), 5)).toEqual(['11100', '11100', '11100', '00011', '00011']);
  });

  it('first-fit-decreasing fills packs fuller than greedy', () => {
    const xs = [6, 5, 4, 5].map((n, i) => ex(Array.from({ length: n }, () => i)));
    expect(packSequences(xs, { maxLength: 10, strategy: 'greedy' }).length).toBe(3);
    const ffd = packSequences(xs, { maxLength: 10 });
    expect(ffd.length).toBe(2);
    expect(ffd.map((p) => p.exampleIndexes)).toEqual([[0, 2], [1, 3]]);
  });

  it('names an example longer than maxLength and the fix', () => {
    expect(() => packSequences([ex([1, 2, 3])], { maxLength: 2 })).toThrow(/example 0 has 3 tokens, more than maxLength 2; truncate examples first/);
  });

  const examples = fc.array(
    fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: n, maxLength: n }), fc.array(fc.oneof(fc.constant(IGNORE_INDEX), fc.integer({ min: 0, max: 1000 })), { minLength: n, maxLength: n }))),
    { maxLength: 20 },
  );

  it('unpacking recovers every example, and no label crosses an example boundary (property)', () => {
    fc.assert(
      fc.property(examples, fc.integer({ min: 12, max: 40 }), fc.constantFrom('greedy' as const, 'first-fit-decreasing' as const), (xs, maxLength, strategy) => {
        const input = xs.map(([ids, labels]) => ({ inputIds: ids, labels }));
        const packs = packSequences(input, { maxLength, strategy });
        const seen = new Map<number, { inputIds: number[]; labels: number[] }>();
        for (const p of packs) {
          expect(p.inputIds.length).toBeLessThanOrEqual(maxLength);
          unpackSequence(p).forEach((e, s) => seen.set(p.exampleIndexes[s]!, e));
          // With the usual shift, label k is predicted from token k-1: both must be in one example.
          for (let k = 0; k < p.labels.length; k++) {
            if (p.labels[k] === IGNORE_INDEX) continue;
            expect(k).toBeGreaterThan(0);
            expect(p.segmentIds[k - 1]).toBe(p.segmentIds[k]);
          }
          // The mask never lets a token see another example.
          const m = packedAttentionMask(p.segmentIds, { causal: false });
          const t = p.inputIds.length;
          for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) expect(m[i * t + j]).toBe(p.segmentIds[i] === p.segmentIds[j] ? 1 : 0);
        }
        expect([...seen.keys()].sort((a, b) => a - b)).toEqual(input.map((_, i) => i));
        for (const [i, e] of seen) {
          expect(e.inputIds).toEqual(input[i]!.inputIds);
          expect(e.labels).toEqual([IGNORE_INDEX, ...input[i]!.labels.slice(1)]);
        }
      }),
      { numRuns },
    );
  });

  it('padCollate pads packs into a batch with a [B, T, T] mask', () => {
    const packs = packSequences([ex([1, 2]), ex([3]), ex([4, 5, 6])], { maxLength: 3, strategy: 'greedy' });
    const b = padCollate(packs, { padId: 0 });
    expect(b.shape).toEqual([2, 3]);
    expect([...b.inputIds]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...b.positionIds]).toEqual([0, 1, 0, 0, 1, 2]);
    expect([...b.attentionMask4d!.subarray(0, 9)]).toEqual([1, 0, 0, 1, 1, 0, 0, 0, 1]);
  });

  it("padCollate's packed mask: query q attends key k iff both are real tokens of one example and k ≤ q, either padding side (property)", () => {
    const examples = fc.array(fc.array(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 5 }).map(ex), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(examples, fc.constantFrom('right' as const, 'left' as const), fc.integer({ min: 1, max: 4 }), (input, paddingSide, padToMultipleOf) => {
        const packs = packSequences(input, { maxLength: 7, strategy: 'greedy' });
        const b = padCollate(packs, { padId: 0, paddingSide, padToMultipleOf });
        const [rows, t] = b.shape;
        packs.forEach((p, i) => {
          const n = p.segmentIds.length;
          const at = paddingSide === 'left' ? t - n : 0;
          // The example each padded position belongs to, or -1 on padding.
          const seg = (pos: number): number => (pos >= at && pos < at + n ? p.segmentIds[pos - at]! : -1);
          for (let q = 0; q < t; q++) for (let k = 0; k < t; k++) expect(b.attentionMask4d![(i * t + q) * t + k]).toBe(seg(q) >= 0 && seg(q) === seg(k) && k <= q ? 1 : 0);
        });
        expect(rows).toBe(packs.length);
      }),
      { numRuns },
    );
  });
});
