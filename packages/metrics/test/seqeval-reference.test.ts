// seqeval's own published test cases, transcribed into fixtures/seqeval-reference.json: every
// entity list of tests/test_scheme.py for the six strict schemes (with and without a type), the strict
// IOB2 scores and report string of tests/test_v1.py, and the lenient get_entities examples.
import { describe, expect, it } from 'vitest';
import { extractEntities, formatSeqevalReport, lenientEntities, seqeval, strictEntities, type TaggingScheme } from '../src/index.js';
import { loadFixture } from './fixtures.js';

type Span = [type: string, start: number, end: number];
type Quad = [precision: number, recall: number, f1: number, support: number];
interface Reference {
  strictTokens: Record<TaggingScheme, { tags: string[]; entities: Span[] }[]>;
  strictScores: { yTrue: string[][]; yPred: string[][]; scheme: TaggingScheme; perType: Record<string, Quad>; micro: Quad; macro: Quad; weighted: Quad; report: string };
  lenientEntities: { tags: string[]; suffix: boolean; entities: Span[] }[];
  strictInvalid: [string[], TaggingScheme];
}
const ref = loadFixture<Reference>('seqeval-reference.json');
const spans = (es: { type: string; start: number; end: number }[]): Span[] => es.map((e) => [e.type, e.start, e.end]);

describe("seqeval's published strict-mode cases (tests/test_scheme.py)", () => {
  for (const [scheme, cases] of Object.entries(ref.strictTokens) as [TaggingScheme, Reference['strictTokens'][TaggingScheme]][]) {
    it(`${scheme}: all ${cases.length} token sequences give seqeval's entities`, () => {
      const wrong = cases.filter((c) => JSON.stringify(spans(strictEntities(c.tags, scheme))) !== JSON.stringify(c.entities));
      expect(wrong.map((c) => `${c.tags.join(' ')} -> ${JSON.stringify(spans(strictEntities(c.tags, scheme)))}, seqeval ${JSON.stringify(c.entities)}`)).toEqual([]);
    });
  }

  it('rejects IOBES tags under IOB2, as seqeval raises ValueError', () => {
    const [tags, scheme] = ref.strictInvalid;
    expect(() => strictEntities(tags, scheme)).toThrow(/IOB2 does not allow/);
  });
});

describe("seqeval's published strict IOB2 scores (tests/test_v1.py)", () => {
  const { yTrue, yPred, scheme } = ref.strictScores;
  const result = seqeval(yTrue, yPred, { mode: 'strict', scheme });
  const quad = (s: { precision: number; recall: number; f1: number; support: number }): Quad => [s.precision, s.recall, s.f1, s.support];

  it('per type and micro/macro/weighted averages equal output_dict=True', () => {
    expect(result.report.labels).toEqual(Object.keys(ref.strictScores.perType));
    for (const [type, want] of Object.entries(ref.strictScores.perType)) expect(quad(result.report.perClass.get(type)!)).toEqual(want);
    for (const avg of ['micro', 'macro', 'weighted'] as const) {
      quad(result.report[avg]).forEach((v, i) => expect(v, `${avg}[${i}]`).toBeCloseTo(ref.strictScores[avg][i]!, 12));
    }
  });

  it('the printed report is byte-identical to classification_report', () => {
    expect(formatSeqevalReport(result)).toBe(ref.strictScores.report);
  });
});

describe("seqeval's lenient get_entities examples (tests/test_metrics.py)", () => {
  // get_entities reports inclusive ends ('MISC', 3, 5); our spans are half-open [start, end).
  it.each(ref.lenientEntities.map((c) => [c.suffix ? 'suffix style' : 'prefix style', c] as const))('%s', (_, c) => {
    const want = c.entities.map(([t, s, e]): Span => [t, s, e + 1]);
    expect(spans(lenientEntities(c.tags, 0, c.suffix))).toEqual(want);
    expect(spans(extractEntities([c.tags], { suffix: c.suffix }))).toEqual(want);
  });
});
