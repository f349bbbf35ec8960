/** The result of encoding one text (or a pair): parallel arrays, one entry per token. */
export interface Encoding {
  ids: number[];
  tokens: string[];
  /** [start, end) spans in the original text (code points by default, like the Rust library). */
  offsets: Array<[number, number]>;
  attentionMask: number[];
  specialTokensMask: number[];
  typeIds: number[];
  /** Index of the pre-tokenized word each token came from; null for special tokens. */
  wordIds: Array<number | null>;
  /** Which input sequence each token came from (0, 1) or null for special tokens. */
  sequenceIds: Array<number | null>;
}

/** An empty encoding. */
export function emptyEncoding(): Encoding {
  return { ids: [], tokens: [], offsets: [], attentionMask: [], specialTokensMask: [], typeIds: [], wordIds: [], sequenceIds: [] };
}

/** Appends `b` onto `a` in place. */
export function appendEncoding(a: Encoding, b: Encoding): void {
  // A loop, not push(...b): spreading 100k+ items overflows the call stack.
  for (const k of Object.keys(a) as Array<keyof Encoding>) {
    const dst = a[k] as unknown[];
    for (const v of b[k] as unknown[]) dst.push(v);
  }
}
