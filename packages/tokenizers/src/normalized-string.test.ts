import { describe, expect, it } from 'vitest';
import { NormalizedString } from './normalized-string.js';
import { normalizeUnicode } from './normalizers/unicode-forms.js';
import { RegexPattern, StringPattern, onigurumaToJs } from './pattern.js';

// Cases from the Rust library's own NormalizedString tests, with UTF-16 units in place of bytes.
const spans = (n: NormalizedString): Array<[number, number]> => Array.from(n.alignStart, (s, i) => [s, n.alignEnd[i]!]);

describe('NormalizedString', () => {
  it('NFD inserts chars aligned to the char they came from', () => {
    const n = new NormalizedString('élégant');
    normalizeUnicode(n, 'NFD');
    expect(n.normalized).toBe('e\u0301le\u0301gant');
    expect(spans(n).slice(0, 5)).toEqual([[0, 1], [0, 1], [1, 2], [2, 3], [2, 3]]);
  });

  it('filter removes chars and keeps the survivors aligned', () => {
    const n = new NormalizedString('élégant');
    n.filter((c) => c !== 'n');
    expect(n.normalized).toBe('élégat');
    expect(n.originalRange(5, 6)).toEqual([6, 7]);
  });

  it('prepend aligns the new text to the first char', () => {
    const n = new NormalizedString('there');
    n.prepend('Hey ');
    expect(n.normalized).toBe('Hey there');
    expect(n.originalRange(0, 4)).toEqual([0, 1]);
  });

  it('append aligns the new text to the last char', () => {
    const n = new NormalizedString('Hey');
    n.append(' there');
    expect(n.normalized).toBe('Hey there');
    expect(n.originalRange(3, 9)).toEqual([2, 3]);
  });

  it('strip keeps offsets into the original', () => {
    const n = new NormalizedString('  This is an example  ');
    n.strip(true, true);
    expect(n.normalized).toBe('This is an example');
    expect(n.originalRange(0, n.length)).toEqual([2, 20]);
  });

  it('replace aligns the content to the last replaced char', () => {
    const n = new NormalizedString(' Hello   friend ');
    n.replace(new RegexPattern('\\s+'), '_');
    expect(n.normalized).toBe('_Hello_friend_');
    expect(n.originalRange(6, 7)).toEqual([8, 9]);
  });

  it('splits with every delimiter behaviour', () => {
    const n = new NormalizedString('The-final--countdown');
    const dash = new StringPattern('-');
    const parts = (b: Parameters<NormalizedString['split']>[1]): string[] => n.split(dash, b).map((p) => p.normalized);
    expect(parts('Removed')).toEqual(['The', 'final', 'countdown']);
    expect(parts('Isolated')).toEqual(['The', '-', 'final', '-', '-', 'countdown']);
    expect(parts('MergedWithPrevious')).toEqual(['The-', 'final-', '-', 'countdown']);
    expect(parts('MergedWithNext')).toEqual(['The', '-final', '-', '-countdown']);
    expect(parts('Contiguous')).toEqual(['The', '-', 'final', '--', 'countdown']);
  });

  it('keeps a surrogate pair as one char', () => {
    const n = new NormalizedString('a😀b');
    expect(spans(n)).toEqual([[0, 1], [1, 3], [1, 3], [3, 4]]);
  });
});

describe('onigurumaToJs', () => {
  it('spells out scoped case-insensitive groups', () => {
    expect(onigurumaToJs("(?i:'s|'t)")).toBe("(?:'[sS]|'[tT])");
  });
  it('gives \\s the White_Space meaning (U+0085 yes, U+FEFF no)', () => {
    const re = new RegExp(onigurumaToJs('\\s+'), 'u');
    expect(re.test('\u0085')).toBe(true);
    expect(re.test('\ufeff')).toBe(false);
  });
});
