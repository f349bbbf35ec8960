// sacreBLEU's own chrF test cases (mjpost/sacrebleu test/test_chrf.py, commit 0dca9d48), each checked
// to the 1e-4 that file uses: epsilon smoothing (chrF++.py), effective order (sacreBLEU < 2.0),
// whitespace kept, and sentence-level scores with the defaults.
import { describe, expect, it } from 'vitest';
import { corpusChrf, type ChrfOptions } from '../src/index.js';

const EPSILON = 1e-4;
type Case = [hypotheses: string[], references: string[], expected: number];

/** sacreBLEU's corpus_chrf(hyps, [refs]): one reference stream, so reference i belongs to hypothesis i. */
const score = (hyps: string[], refs: string[], options: ChrfOptions) => corpusChrf(hyps, refs.map((r) => [r]), options).score;

const epsCases: Case[] = [
  [['abcdefg'], ['hijklmnop'], 0.0],
  [['a'], ['b'], 0.0],
  [[''], ['b'], 0.0],
  [[''], ['ref'], 0.0],
  [[''], ['reference'], 0.0],
  [['aa'], ['ab'], 8.3333],
  [['a', 'b'], ['a', 'c'], 8.3333],
  [['a'], ['a'], 16.6667],
  [['a b c'], ['a b c'], 50.0],
  [['a b c'], ['abc'], 50.0],
  [
    [' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
    ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'],
    63.36173,
  ],
  [[' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '], ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'], 64.1302698],
  [['Niemand hat die Absicht, eine Mauer zu errichten'], ['Niemand hat die Absicht, eine Mauer zu errichten'], 100.0],
];

const effectiveOrderCases: Case[] = [
  [['a'], ['a'], 100.0],
  [[''], ['reference'], 0.0],
  [['a b c'], ['a b c'], 100.0],
  [['a b c'], ['abc'], 100.0],
  [[''], ['c'], 0.0],
  [['a', 'b'], ['a', 'c'], 50.0],
  [['aa'], ['ab'], 25.0],
];

const keepWhitespaceCases: Case[] = [
  [['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'], ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'], 67.3481606],
  [
    ['risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
    ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'],
    65.2414427,
  ],
];

const sentenceCases: [hypothesis: string, references: string[], expected: number][] = [
  ['Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.', ['Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.'], 39.14078509],
  ['Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.', ['A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.'], 31.22557079],
  ['Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.', ['Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.'], 57.15704367],
];

describe("sacreBLEU's chrF test cases", () => {
  it.each(epsCases)('eps smoothing, beta 3: %j vs %j = %d', (h, r, want) => {
    expect(Math.abs(score(h, r, { charOrder: 6, wordOrder: 0, beta: 3, epsSmoothing: true }) - want)).toBeLessThan(EPSILON);
  });
  it.each(effectiveOrderCases)('effective order, beta 3: %j vs %j = %d', (h, r, want) => {
    expect(Math.abs(score(h, r, { charOrder: 6, wordOrder: 0, beta: 3, epsSmoothing: false }) - want)).toBeLessThan(EPSILON);
  });
  it.each(keepWhitespaceCases)('whitespace kept, beta 3: %j vs %j = %d', (h, r, want) => {
    expect(Math.abs(score(h, r, { charOrder: 6, wordOrder: 0, beta: 3, whitespace: true }) - want)).toBeLessThan(EPSILON);
  });
  it.each(sentenceCases)('sentence level, defaults with eps smoothing: %j = %d', (h, refs, want) => {
    expect(Math.abs(corpusChrf([h], [refs], { epsSmoothing: true }).score - want)).toBeLessThan(EPSILON);
  });
});
