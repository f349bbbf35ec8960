import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFixture, numRuns } from '../test/fixtures.js';
import { BleuAccumulator, corpusBleu, corpusChrf, sentenceBleu, tokenize13a } from './index.js';

// sacreBLEU's README example (three segments, two reference streams).
const refStreams = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const hyps = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const refs = hyps.map((_, i) => refStreams.map((s) => s[i]!));

describe('corpusBleu', () => {
  it('matches the sacreBLEU README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)', () => {
    const b = corpusBleu(hyps, refs);
    expect(b.score.toFixed(2)).toBe('48.53');
    expect(b.precisions.map((p) => p.toFixed(1))).toEqual(['82.4', '50.0', '45.5', '37.5']);
    expect(b.bp.toFixed(3)).toBe('0.943');
    expect(b.ratio.toFixed(3)).toBe('0.944');
    expect([b.sysLen, b.refLen]).toEqual([17, 18]);
  });

  const nltk = loadFixture<{ cases: Array<{ hypotheses: string[]; references: string[][]; bleu: number }> }>('nltk-corpus-bleu.json');
  it.each(nltk.cases.map((c, i) => [i, c] as const))('equals NLTK 3.8 corpus_bleu on whitespace tokens, case %i', (_, c) => {
    expect(corpusBleu(c.hypotheses, c.references, { tokenize: 'none', smoothMethod: 'none' }).score).toBeCloseTo(c.bleu, 9);
  });

  const smoothed = loadFixture<{ cases: Array<{ hypotheses: string[]; references: string[][]; bleu: number }> }>('nltk-corpus-bleu-exp-smoothing.json');
  it.each(smoothed.cases.map((c, i) => [i, c] as const))("'exp' smoothing equals NLTK 3.8 corpus_bleu with method3 (NIST geometric), case %i", (_, c) => {
    expect(corpusBleu(c.hypotheses, c.references, { tokenize: 'none' }).score).toBeCloseTo(c.bleu, 9);
  });

  it('gives 100 for an exact match and 0 for no overlap', () => {
    expect(sentenceBleu('a b c d e', ['a b c d e']).score).toBeCloseTo(100, 10);
    expect(corpusBleu(['x y z w'], [['a b c d']], { smoothMethod: 'none' }).score).toBe(0);
  });

  it('streams: batches equal one call', () => {
    const word = fc.constantFrom('a', 'b', 'c', 'd', 'e', '.');
    const sent = fc.array(word, { minLength: 1, maxLength: 8 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(fc.array(fc.tuple(sent, sent), { minLength: 1, maxLength: 10 }), (pairs) => {
        const acc = new BleuAccumulator();
        for (let i = 0; i < pairs.length; i += 2) acc.update(pairs.slice(i, i + 2).map((p) => p[0]), pairs.slice(i, i + 2).map((p) => [p[1]]));
        expect(acc.compute()).toEqual(corpusBleu(pairs.map((p) => p[0]), pairs.map((p) => [p[1]])));
      }),
      { numRuns },
    );
  });
});

describe('tokenize13a', () => {
  // Hand-derived from mteval-v13a's rules.
  it.each([
    ["It wasn't surprising.", "It wasn't surprising ."], // 13a keeps apostrophes (0x27 is outside its symbol ranges)
    ['Pi is 3.14, or 1,000 and 5-3.', 'Pi is 3.14 , or 1,000 and 5 - 3 .'],
    ['a &amp; b (c) "d"', 'a & b ( c ) " d "'],
  ])('%j → %j', (input, want) => {
    expect(tokenize13a(input)).toBe(want);
  });
});

describe('corpusChrf', () => {
  it('matches the sacreBLEU README: chrF2 = 59.73', () => {
    expect(corpusChrf(hyps, refs).score.toFixed(2)).toBe('59.73');
  });

  it('is 100 for identical text and ignores whitespace by default', () => {
    expect(corpusChrf(['the cat'], [['thecat']]).score).toBeCloseTo(100, 10);
  });

  it('supports chrF++ (word order 2) and stays within [0, 100]', () => {
    const s = corpusChrf(hyps, refs, { wordOrder: 2 }).score;
    expect(s).toBeGreaterThan(0);
    expect(s).toBeLessThan(100);
  });
});
