import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numRuns } from '../test/tokenizers.js';
import { Dataset, SeededRandom, splitArray } from './index.js';

describe('Dataset', () => {
  it('map/filter/take/skip stream: take stops reading the source', async () => {
    let reads = 0;
    const ds = Dataset.from(async function* () {
      for (let i = 0; ; i++) {
        reads++;
        yield i;
      }
    });
    const out = await ds.filter((x) => x % 2 === 0).map((x) => x * 10).skip(1).take(3).toArray();
    expect(out).toEqual([20, 40, 60]);
    expect(reads).toBe(7);
  });

  it('batch groups consecutive records', async () => {
    expect(await Dataset.from([1, 2, 3, 4, 5]).batch(2).toArray()).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('shuffle is a deterministic permutation for a seed, full or buffered (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 50 }), fc.integer(), fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }), async (xs, seed, bufferSize) => {
        const ds = Dataset.from(xs);
        const a = await ds.shuffle({ seed, bufferSize }).toArray();
        const b = await ds.shuffle({ seed, bufferSize }).toArray();
        expect(a).toEqual(b);
        expect([...a].sort((p, q) => p - q)).toEqual([...xs].sort((p, q) => p - q));
      }),
      { numRuns },
    );
  });

  it('different seeds give different orders', async () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const a = await Dataset.from(xs).shuffle({ seed: 1 }).toArray();
    const b = await Dataset.from(xs).shuffle({ seed: 2 }).toArray();
    expect(a).not.toEqual(b);
  });

  it('SeededRandom is reproducible across instances (fixed sequence)', () => {
    const r = new SeededRandom(42);
    const first = [r.next(), r.next(), r.next()];
    const s = new SeededRandom(42);
    expect([s.next(), s.next(), s.next()]).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('splits', () => {
  it('train/validation/test fractions use every record once, disjointly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer(), (n, seed) => {
        const xs = Array.from({ length: n }, (_, i) => i);
        const s = splitArray(xs, { train: 0.8, validation: 0.1, test: 0.1 }, { seed });
        const all = [...s.train!, ...s.validation!, ...s.test!].sort((a, b) => a - b);
        expect(all).toEqual(xs);
        expect(Math.abs(s.train!.length - 0.8 * n)).toBeLessThanOrEqual(1);
      }),
      { numRuns },
    );
  });

  it('is deterministic per seed, takes counts, and names bad sizes', async () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    expect(splitArray(xs, { train: 0.5, test: 0.5 }, { seed: 7 })).toEqual(splitArray(xs, { train: 0.5, test: 0.5 }, { seed: 7 }));
    expect(splitArray(xs, { train: 7, test: 3 }, { seed: null })).toEqual({ train: [0, 1, 2, 3, 4, 5, 6], test: [7, 8, 9] });
    expect(() => splitArray(xs, { train: 0.9, test: 0.2 }, { seed: 1 })).toThrow(/sum to 1\.1.*at most 1/);
    const parts = await Dataset.from(xs).split({ train: 0.7, test: 0.3 }, { seed: 3 });
    expect((await parts.test!.toArray()).length).toBe(3);
  });
});
