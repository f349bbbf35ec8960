import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numRuns } from '../test/fixtures.js';
import { formatSeqevalReport, lenientEntities, seqeval, SeqevalAccumulator, strictEntities } from './index.js';

const span = (es: Array<{ type: string; start: number; end: number }>): string[] => es.map((e) => `${e.type}:${e.start}-${e.end}`);

describe('seqeval (lenient, the default mode)', () => {
  // seqeval's README example.
  const yTrue = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
  const yPred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];

  it('matches the seqeval README figures (f1 0.50, accuracy 0.80) and report', () => {
    const r = seqeval(yTrue, yPred);
    expect(r.f1).toBe(0.5);
    expect(r.precision).toBe(0.5);
    expect(r.recall).toBe(0.5);
    expect(r.accuracy).toBe(0.8);
    expect(formatSeqevalReport(r)).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '        MISC       0.00      0.00      0.00         1',
        '         PER       1.00      1.00      1.00         1',
        '',
        '   micro avg       0.50      0.50      0.50         2',
        '   macro avg       0.50      0.50      0.50         2',
        'weighted avg       0.50      0.50      0.50         2',
        '',
      ].join('\n'),
    );
  });

  // Hand-derived from seqeval's get_entities rules (start_of_chunk / end_of_chunk).
  it.each([
    [['B-PER', 'E-PER', 'S-LOC', 'O'], ['PER:0-2', 'LOC:2-3']],
    [['I-PER', 'I-PER', 'B-PER', 'O'], ['PER:0-2', 'PER:2-3']],
    [['I-ORG', 'E-ORG', 'E-ORG'], ['ORG:0-2', 'ORG:2-3']],
    [['B-PER', 'I-LOC', 'I-LOC'], ['PER:0-1', 'LOC:1-3']],
    [['O', 'I-PER', 'O', 'B-X'], ['PER:1-2', 'X:3-4']],
  ])('reads %j as %j', (tags, want) => {
    expect(span(lenientEntities(tags))).toEqual(want);
  });

  it('reads suffix-style tags', () => {
    expect(span(lenientEntities(['PER-B', 'PER-I', 'O'], 0, true))).toEqual(['PER:0-2']);
  });
});

describe('seqeval (strict mode)', () => {
  // seqeval's README strict-mode example: I-NP I-NP is no entity under IOB2.
  it('matches the seqeval README strict example (lenient 1.00, strict 0.00)', () => {
    const t = [['B-NP', 'I-NP', 'O']];
    const p = [['I-NP', 'I-NP', 'O']];
    expect(seqeval(t, p).f1).toBe(1);
    const strict = seqeval(t, p, { mode: 'strict', scheme: 'IOB2' });
    expect(strict.f1).toBe(0);
    expect(formatSeqevalReport(strict)).toContain('          NP       0.00      0.00      0.00         1');
  });

  it.each([
    ['IOB2', ['B-PER', 'I-LOC', 'O'], ['PER:0-1']],
    ['IOB2', ['B-PER', 'I-PER', 'B-PER'], ['PER:0-2', 'PER:2-3']],
    ['IOBES', ['B-PER', 'I-PER', 'O'], []],
    ['IOBES', ['B-PER', 'E-PER', 'S-LOC'], ['PER:0-2', 'LOC:2-3']],
    ['IOE2', ['I-PER', 'E-PER', 'E-LOC'], ['PER:0-2', 'LOC:2-3']],
    ['IOE2', ['I-PER', 'I-PER', 'O'], []],
    ['IOB1', ['I-PER', 'I-PER', 'B-PER', 'O'], ['PER:0-2', 'PER:2-3']],
    ['BILOU', ['B-PER', 'L-PER', 'U-LOC'], ['PER:0-2', 'LOC:2-3']],
  ] as const)('%s reads %j as %j', (scheme, tags, want) => {
    expect(span(strictEntities(tags, scheme))).toEqual(want);
  });

  it('names the scheme and the fix for a foreign prefix or a missing scheme', () => {
    expect(() => strictEntities(['S-PER'], 'IOB2')).toThrow(/"S-PER" has prefix "S", which IOB2 does not allow/);
    expect(() => seqeval([['O']], [['O']], { mode: 'strict' })).toThrow(/needs a scheme/);
  });

  it('strict entities are a subset of lenient ones on well-formed IOB2 (property)', () => {
    const tag = fc.constantFrom('O', 'B-A', 'I-A', 'B-B', 'I-B');
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 20 }), (tags) => {
        const lenient = new Set(span(lenientEntities(tags)));
        for (const s of span(strictEntities(tags, 'IOB2'))) expect(lenient.has(s)).toBe(true);
      }),
      { numRuns },
    );
  });

  // An independent oracle: write known spans in each scheme, then read them back in both modes.
  const spansArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom('A', 'B')), { maxLength: 5 });
  function layout(spans: Array<[gap: number, len: number, type: string]>): { length: number; spans: Array<{ type: string; start: number; end: number }> } {
    let at = 0;
    const out = spans.map(([gap, len, type]) => {
      at += gap;
      const s = { type, start: at, end: at + len };
      at += len;
      return s;
    });
    return { length: at + 1, spans: out };
  }
  const write: Record<string, (len: number, k: number, type: string, prevAdjacentSameType: boolean) => string> = {
    IOB2: (_, k, t) => (k === 0 ? 'B-' : 'I-') + t,
    IOBES: (len, k, t) => (len === 1 ? 'S-' : k === 0 ? 'B-' : k === len - 1 ? 'E-' : 'I-') + t,
    IOE2: (len, k, t) => (k === len - 1 ? 'E-' : 'I-') + t,
    IOB1: (_, k, t, adj) => (k === 0 && adj ? 'B-' : 'I-') + t,
  };
  it.each(Object.keys(write))('reads back well-formed %s spans exactly, lenient and strict (property)', (scheme) => {
    fc.assert(
      fc.property(spansArb, (raw) => {
        const { length, spans } = layout(raw);
        const tags = Array.from({ length }, () => 'O');
        spans.forEach((sp, i) => {
          const prev = spans[i - 1];
          const adj = !!prev && prev.end === sp.start && prev.type === sp.type;
          for (let k = sp.start; k < sp.end; k++) tags[k] = write[scheme]!(sp.end - sp.start, k - sp.start, sp.type, adj);
        });
        const want = spans.map((e) => `${e.type}:${e.start}-${e.end}`);
        expect(span(strictEntities(tags, scheme as 'IOB2'))).toEqual(want);
        expect(span(lenientEntities(tags))).toEqual(want);
      }),
      { numRuns },
    );
  });

  it('streams: sentence batches equal one call', () => {
    const sentence = fc.array(fc.tuple(fc.constantFrom('O', 'B-A', 'I-A', 'B-B'), fc.constantFrom('O', 'B-A', 'I-A', 'B-B')), { maxLength: 8 });
    fc.assert(
      fc.property(fc.array(sentence, { maxLength: 10 }), (sents) => {
        const t = sents.map((s) => s.map((x) => x[0]));
        const p = sents.map((s) => s.map((x) => x[1]));
        const acc = new SeqevalAccumulator();
        for (let i = 0; i < sents.length; i += 3) acc.update(t.slice(i, i + 3), p.slice(i, i + 3));
        expect(acc.compute()).toEqual(seqeval(t, p));
      }),
      { numRuns },
    );
  });
});
