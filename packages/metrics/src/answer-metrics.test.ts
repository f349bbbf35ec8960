import { describe, expect, it } from 'vitest';
import { accuracy, AccuracyAccumulator, exactMatch, ExactMatchAccumulator, meanTokenF1, normalizeAnswer, perplexity, PerplexityAccumulator, tokenF1, tokenLosses } from './index.js';

describe('exactMatch', () => {
  // Hugging Face evaluate's exact_match documentation examples: 0.25, 0.50, 0.75, 1.00.
  const refs = ['the cat', 'theater', 'YELLING', 'agent007'];
  const preds = ['cat?', 'theater', 'yelling', 'agent'];
  it.each([
    [{}, 0.25],
    [{ regexesToIgnore: ['the ', 'yell'], ignoreCase: true, ignorePunctuation: true }, 0.5],
    [{ regexesToIgnore: ['the ', 'yell', 'YELL'], ignoreCase: true, ignorePunctuation: true }, 0.75],
    [{ regexesToIgnore: ['the ', 'yell', 'YELL'], ignoreCase: true, ignorePunctuation: true, ignoreNumbers: true }, 1],
  ])('with %j gives %f', (options, want) => {
    expect(exactMatch(preds, refs, options).exactMatch).toBe(want);
  });

  it('accepts several references and SQuAD normalisation, streaming', () => {
    const acc = new ExactMatchAccumulator({ squad: true });
    acc.update(['The Eiffel Tower!'], [['eiffel tower', 'tour eiffel']]);
    acc.update(['Paris'], ['London']);
    expect(acc.compute()).toEqual({ exactMatch: 0.5, matches: 1, total: 2 });
  });
});

describe('tokenF1 (SQuAD)', () => {
  // Hand-derived from SQuAD's f1_score.
  it('normalises and scores token overlap', () => {
    expect(normalizeAnswer('The  Cat, an apple!')).toBe('cat apple');
    expect(tokenF1('the cat sat', 'cat sat on mat')).toBeCloseTo(2 / 3, 12);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('a', 'cat')).toBe(0);
    expect(meanTokenF1(['cat sat', 'dog'], [['cat', 'cat sat'], 'cat']).f1).toBeCloseTo(0.5, 12);
  });
});

describe('perplexity and accuracy', () => {
  it('perplexity is exp of the mean loss, batch sums included', () => {
    expect(perplexity([Math.log(2), Math.log(8)]).perplexity).toBeCloseTo(4, 12);
    const acc = new PerplexityAccumulator();
    acc.update([Math.log(2), 99], [1, 0]);
    acc.updateSum(Math.log(8), 1);
    expect(acc.compute().perplexity).toBeCloseTo(4, 12);
    expect(() => acc.update([Number.NaN])).toThrow(/loss of token 0 is NaN/);
  });

  it('tokenLosses: uniform logits cost log V; ignored targets are masked', () => {
    const { losses, mask } = tokenLosses(new Float32Array(8), 4, [1, -100]);
    expect(losses[0]).toBeCloseTo(Math.log(4), 6);
    expect([...mask]).toEqual([1, 0]);
  });

  it('accuracy skips -100 and streams', () => {
    expect(accuracy([1, 2, 3], [1, -100, 4]).accuracy).toBe(0.5);
    const acc = new AccuracyAccumulator();
    acc.update([1], [1]);
    acc.update([2, 2], [2, 3]);
    expect(acc.compute()).toEqual({ accuracy: 2 / 3, correct: 2, total: 3 });
  });
});
