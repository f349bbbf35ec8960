import { SeededRandom } from '@tessera/datasets';

/** Seeded choices for the data generators (SeededRandom underneath, so a seed fixes every file). */
export class SeededPicker {
  readonly random: SeededRandom;
  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }
  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.random.int(hi - lo + 1);
  }
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.random.int(items.length)]!;
  }
  /** `n` distinct elements of a list (n ≤ length). */
  distinct<T>(items: readonly T[], n: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(pool.splice(this.random.int(pool.length), 1)[0]!);
    return out;
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.random.next() < p;
  }
}
