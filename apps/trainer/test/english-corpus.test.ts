import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { arithmeticDrill, englishCorpus, namesDrill } from '../src/data/english-corpus.js';

// Reads a drill sentence back into [a, op, b, result]; each phrasing names its operands in a fixed order.
function parseFact(s: string): [number, '+' | '-', number, number] {
  const n = (s.match(/\d+/g) ?? []).map(Number) as [number, number, number];
  if (/^Adding /.test(s)) return [n[1], '+', n[0], n[2]];
  if (/^If you take /.test(s) || / less than /.test(s)) return [n[1], '-', n[0], n[2]];
  return [n[0], /plus|\+|sum|make/.test(s) ? '+' : '-', n[1], n[2]];
}

describe('the pretraining drills', () => {
  it('arithmeticDrill states every sum and difference up to 20 once a pass, and states them right', () => {
    const sentences = arithmeticDrill(0, 400).flatMap((p) => p.match(/[^.]+\./g)!.map((x) => x.trim()));
    const firstPass = new Set<string>();
    for (const s of sentences.slice(0, 672)) {
      const [a, op, b, c] = parseFact(s);
      expect(c, s).toBe(op === '+' ? a + b : a - b);
      expect(a <= 20 && b <= 20 && c >= 0, s).toBe(true);
      firstPass.add(`${a}${op}${b}`);
    }
    expect(firstPass.size).toBe(672);
    expect(arithmeticDrill(0, 5)).toEqual(arithmeticDrill(0, 5));
  });

  it('namesDrill is fixed by its seed', () => {
    expect(namesDrill(1, 3)).toEqual(namesDrill(1, 3));
    expect(namesDrill(1, 3).join(' ')).toMatch(/is (a person|an organisation|a location|an event)|names/);
  });

  it('the main corpus is still the one that made stages 1 and 2 of the committed base (assets/README.md)', () => {
    const hash = createHash('sha256').update(englishCorpus(0, 2000).join('\n')).digest('hex');
    expect(hash).toBe('23ebe9cc135e8bf9bc7dcb2a6803daabc3aa6276bfb58d0e1d433b8fb3ba60e5');
  });
});
