import { SeededRandom } from './seeded-random.js';

type Source<T> = () => AsyncIterable<T>;

/** Sizes of named splits: fractions summing to at most 1, or absolute counts. */
export type SplitSizes = Record<string, number>;

/** A lazily evaluated, re-iterable stream of records; every transform streams unless it says it materialises. */
export class Dataset<T> implements AsyncIterable<T> {
  private constructor(private readonly source: Source<T>) {}

  /** A dataset over an array, an (async) iterable, or a function that opens the stream afresh each time. */
  static from<T>(items: Iterable<T> | AsyncIterable<T> | Source<T>): Dataset<T> {
    if (typeof items === 'function') return new Dataset(items);
    return new Dataset(async function* () {
      yield* items as AsyncIterable<T>;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.source()[Symbol.asyncIterator]();
  }

  /** Transforms each record (the function may be async). */
  map<U>(fn: (record: T, index: number) => U | Promise<U>): Dataset<U> {
    const src = this.source;
    return new Dataset(async function* () {
      let i = 0;
      for await (const r of src()) yield await fn(r, i++);
    });
  }

  /** Keeps the records for which the predicate holds. */
  filter(fn: (record: T, index: number) => boolean | Promise<boolean>): Dataset<T> {
    const src = this.source;
    return new Dataset(async function* () {
      let i = 0;
      for await (const r of src()) if (await fn(r, i++)) yield r;
    });
  }

  /** The first n records (stops reading after them). */
  take(n: number): Dataset<T> {
    const src = this.source;
    return new Dataset(async function* () {
      if (n <= 0) return;
      let i = 0;
      for await (const r of src()) {
        yield r;
        if (++i >= n) return;
      }
    });
  }

  /** Everything after the first n records. */
  skip(n: number): Dataset<T> {
    const src = this.source;
    return new Dataset(async function* () {
      let i = 0;
      for await (const r of src()) if (i++ >= n) yield r;
    });
  }

  /** Groups consecutive records into arrays of `size` (the last may be shorter). */
  batch(size: number): Dataset<T[]> {
    if (!(size >= 1)) throw new Error(`Dataset.batch: size ${size} must be ≥ 1`);
    const src = this.source;
    return new Dataset(async function* () {
      let b: T[] = [];
      for await (const r of src()) {
        b.push(r);
        if (b.length === size) {
          yield b;
          b = [];
        }
      }
      if (b.length) yield b;
    });
  }

  /**
   * Deterministic shuffle. Without `bufferSize` it reads everything and permutes it uniformly;
   * with one it streams, drawing each record at random from a buffer of that many (as tf.data does).
   */
  shuffle(options: { seed: number; bufferSize?: number }): Dataset<T> {
    const src = this.source;
    const { seed, bufferSize } = options;
    return new Dataset(async function* () {
      const rng = new SeededRandom(seed);
      if (bufferSize === undefined) {
        const all: T[] = [];
        for await (const r of src()) all.push(r);
        yield* rng.shuffle(all);
        return;
      }
      if (!(bufferSize >= 1)) throw new Error(`Dataset.shuffle: bufferSize ${bufferSize} must be ≥ 1`);
      const buf: T[] = [];
      for await (const r of src()) {
        if (buf.length < bufferSize) {
          buf.push(r);
          continue;
        }
        const j = rng.int(bufferSize);
        yield buf[j]!;
        buf[j] = r;
      }
      yield* rng.shuffle(buf);
    });
  }

  /** Reads every record into an array. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const r of this.source()) out.push(r);
    return out;
  }

  /** Splits into named parts (e.g. `{ train: 0.8, validation: 0.1, test: 0.1 }`), shuffled with `seed` unless it is null; materialises. */
  async split(sizes: SplitSizes, options: { seed: number | null }): Promise<Record<string, Dataset<T>>> {
    const all = await this.toArray();
    const parts = splitArray(all, sizes, options);
    return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Dataset.from(v)]));
  }
}

/** Splits an array into named parts by fractions or counts; sizes are apportioned by largest remainder so fractions summing to 1 use every item. */
export function splitArray<T>(items: readonly T[], sizes: SplitSizes, options: { seed: number | null }): Record<string, T[]> {
  const names = Object.keys(sizes);
  const values = Object.values(sizes);
  if (names.length === 0) throw new Error('split: no split sizes given; pass e.g. { train: 0.9, test: 0.1 }');
  const n = items.length;
  const fractional = values.every((v) => v >= 0 && v <= 1) && values.some((v) => !Number.isInteger(v) || v === 0);
  let counts: number[];
  if (fractional) {
    const sum = values.reduce((a, b) => a + b, 0);
    if (sum > 1 + 1e-9) throw new Error(`split: fractions ${JSON.stringify(sizes)} sum to ${sum}; they must sum to at most 1`);
    const exact = values.map((v) => v * n);
    counts = exact.map(Math.floor);
    let left = Math.min(n, Math.round(sum * n)) - counts.reduce((a, b) => a + b, 0);
    const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of order) if (left-- > 0) counts[i]!++;
  } else {
    if (!values.every((v) => Number.isInteger(v) && v >= 0)) throw new Error(`split: sizes ${JSON.stringify(sizes)} mix fractions and counts; use all fractions in [0, 1] or all whole counts`);
    counts = values;
    const total = counts.reduce((a, b) => a + b, 0);
    if (total > n) throw new Error(`split: sizes ${JSON.stringify(sizes)} ask for ${total} records but there are ${n}`);
  }
  const order = options.seed === null ? [...items] : new SeededRandom(options.seed).shuffle([...items]);
  const out: Record<string, T[]> = {};
  let at = 0;
  names.forEach((name, i) => {
    out[name] = order.slice(at, at + counts[i]!);
    at += counts[i]!;
  });
  return out;
}
