import { describe, expect, it } from 'vitest';
import { loadFixture } from '../test/fixtures.js';
import { porterStem, rouge, RougeAccumulator, rougeScore, rougeTokenize } from './index.js';

describe('rouge', () => {
  // The rouge-score README example: score(target, prediction) prints rouge1 (0.75, 0.6667, 0.7059) and rougeL (0.625, 0.5556, 0.5882).
  it.each([false, true])('matches the rouge-score README example (useStemmer %s; the README uses true)', (useStemmer) => {
    const target = 'The quick brown fox jumps over the lazy dog';
    const prediction = 'The quick brown dog jumps on the log.';
    const r1 = rougeScore('rouge1', prediction, target, { useStemmer });
    expect(r1.precision).toBeCloseTo(0.75, 12);
    expect(r1.recall).toBeCloseTo(6 / 9, 12);
    expect(r1.fmeasure).toBeCloseTo(12 / 17, 12);
    const rl = rougeScore('rougeL', prediction, target, { useStemmer });
    expect(rl.precision).toBeCloseTo(0.625, 12);
    expect(rl.recall).toBeCloseTo(5 / 9, 12);
    expect(rl.fmeasure).toBeCloseTo(10 / 17, 12);
  });

  // Hand-derived: 5 of 6 unigrams, 3 of 5 bigrams, LCS 5 of 6.
  it('scores n-gram overlap and LCS', () => {
    const r = rouge(['the cat sat on the mat'], ['the cat is on the mat']);
    expect(r.rouge1.fmeasure).toBeCloseTo(5 / 6, 12);
    expect(r.rouge2.fmeasure).toBeCloseTo(3 / 5, 12);
    expect(r.rougeL.fmeasure).toBeCloseTo(5 / 6, 12);
  });

  // Hand-derived: sentence order does not matter for summary-level LCS, but does for plain LCS.
  it('rougeLsum takes the union LCS per reference line', () => {
    expect(rougeScore('rougeLsum', 'a b c\nd e', 'd e\na b c').fmeasure).toBeCloseTo(1, 12);
    expect(rougeScore('rougeL', 'a b c\nd e', 'd e\na b c').fmeasure).toBeCloseTo(0.6, 12);
  });

  it('takes the best reference and averages over examples, streaming', () => {
    const acc = new RougeAccumulator();
    acc.update(['hello there'], [['general kenobi', 'hello there']]);
    acc.update(['general kenobi'], ['general grievous']);
    const r = acc.compute();
    expect(r.rouge1.fmeasure).toBeCloseTo((1 + 0.5) / 2, 12);
    expect(rouge(['x'], ['']).rouge1.fmeasure).toBe(0);
  });
});

describe('porterStem', () => {
  const fixture = loadFixture<{ cases: Array<[string, string]> }>('nltk-porter.json');
  it(`equals NLTK 3.8 PorterStemmer on ${fixture.cases.length} words`, () => {
    const wrong = fixture.cases.filter(([w, s]) => porterStem(w) !== s);
    expect(wrong.slice(0, 10).map(([w, s]) => `${w}: want ${s}, got ${porterStem(w)}`)).toEqual([]);
  });

  it('stems only tokens longer than three letters in ROUGE', () => {
    expect(rougeTokenize('The runners were running', { useStemmer: true })).toEqual(['the', 'runner', 'were', 'run']);
    // cats→cat, running→run, runs→run; 'cat' has three letters and is left alone.
    expect(rouge(['cats running'], ['cat runs'], { useStemmer: true }).rouge1.fmeasure).toBe(1);
    expect(rouge(['cats running'], ['cat runs']).rouge1.fmeasure).toBe(0);
  });
});
