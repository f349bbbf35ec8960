import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFixture, numRuns } from '../test/fixtures.js';
import { classificationReport, ClassificationReportAccumulator, formatClassificationReport, type Label } from './index.js';

interface SkCase {
  yTrue: Label[];
  yPred: Label[];
  options: { labels?: Label[]; zero_division?: 0 | 1 };
  digits: number;
  text: string;
  dict: Record<string, { precision: number; recall: number; 'f1-score': number; support: number } | number>;
}

describe('classificationReport', () => {
  // scikit-learn's own docstring example (sklearn.metrics.classification_report).
  it('matches the scikit-learn docstring example', () => {
    const r = classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1]);
    expect(formatClassificationReport(r, { targetNames: ['class 0', 'class 1', 'class 2'] })).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '     class 0       0.50      1.00      0.67         1',
        '     class 1       0.00      0.00      0.00         1',
        '     class 2       1.00      0.67      0.80         3',
        '',
        '    accuracy                           0.60         5',
        '   macro avg       0.50      0.56      0.49         5',
        'weighted avg       0.70      0.60      0.61         5',
        '',
      ].join('\n'),
    );
  });

  const fixture = loadFixture<{ cases: SkCase[] }>('sklearn-classification-report.json');
  it.each(fixture.cases.map((c, i) => [i, c] as const))('matches scikit-learn 1.2.1 output, case %i', (_, c) => {
    const r = classificationReport(c.yTrue, c.yPred, { labels: c.options.labels, zeroDivision: c.options.zero_division ?? 0 });
    expect(formatClassificationReport(r, { digits: c.digits })).toBe(c.text);
    for (const l of r.labels) {
      const want = c.dict[String(l)] as { precision: number; recall: number; 'f1-score': number; support: number };
      const got = r.perClass.get(l)!;
      expect(got.precision).toBeCloseTo(want.precision, 12);
      expect(got.recall).toBeCloseTo(want.recall, 12);
      expect(got.f1).toBeCloseTo(want['f1-score'], 12);
      expect(got.support).toBe(want.support);
    }
    const avg = (k: string): { precision: number; recall: number; 'f1-score': number } => c.dict[k] as never;
    for (const [name, got] of [['macro avg', r.macro], ['weighted avg', r.weighted]] as const) {
      expect(got.f1).toBeCloseTo(avg(name)['f1-score'], 12);
      expect(got.precision).toBeCloseTo(avg(name).precision, 12);
    }
    if (typeof c.dict.accuracy === 'number') expect(r.accuracy).toBeCloseTo(c.dict.accuracy, 12);
    else expect(r.micro.f1).toBeCloseTo(avg('micro avg')['f1-score'], 12);
  });

  it('streams: batches give the same report as one call', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })), { maxLength: 60 }), fc.integer({ min: 1, max: 7 }), (pairs, size) => {
        const acc = new ClassificationReportAccumulator();
        for (let i = 0; i < pairs.length; i += size) {
          const b = pairs.slice(i, i + size);
          acc.update(b.map((p) => p[0]), b.map((p) => p[1]));
        }
        const one = classificationReport(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
        expect(acc.compute()).toEqual(one);
      }),
      { numRuns },
    );
  });

  it('skips ignored labels and names mismatched lengths', () => {
    const r = classificationReport([1, -100, 2], [1, 5, 1], { ignoreLabel: -100 });
    expect(r.labels).toEqual([1, 2]);
    expect(() => classificationReport([1], [1, 2])).toThrow(/yTrue has 1 labels but yPred has 2/);
  });
});
