/**
 * An open-addressing hash table from a pair of token ids to (rank, merged id), in typed arrays:
 * loading 500k merges and looking pairs up in the encode loop stay cheap, where a Map keyed by
 * large packed numbers would box every key.
 */
export class MergeTable {
  private readonly mask: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly ranks: Int32Array;
  private readonly ids: Int32Array;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap <<= 1;
    this.mask = cap - 1;
    this.left = new Int32Array(cap).fill(-1);
    this.right = new Int32Array(cap);
    this.ranks = new Int32Array(cap);
    this.ids = new Int32Array(cap);
  }

  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** Sets (or overwrites, as a later duplicate merge does in Rust) the entry of pair (a, b). */
  set(a: number, b: number, rank: number, id: number): void {
    let i = this.slot(a, b);
    for (;;) {
      const l = this.left[i]!;
      if (l === -1 || (l === a && this.right[i] === b)) {
        this.left[i] = a;
        this.right[i] = b;
        this.ranks[i] = rank;
        this.ids[i] = id;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Slot of pair (a, b), or -1 when the pair does not merge. */
  find(a: number, b: number): number {
    let i = this.slot(a, b);
    for (;;) {
      const l = this.left[i]!;
      if (l === -1) return -1;
      if (l === a && this.right[i] === b) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Rank of the merge in slot `i`. */
  rank(i: number): number {
    return this.ranks[i]!;
  }

  /** Id of the merged token in slot `i`. */
  mergedId(i: number): number {
    return this.ids[i]!;
  }
}
