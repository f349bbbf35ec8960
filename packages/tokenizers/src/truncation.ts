import type { Encoding } from './encoding.js';

/** How sequences are cut to a maximum length (tokenizer.json `truncation`). */
export interface TruncationParams {
  maxLength: number;
  strategy: 'LongestFirst' | 'OnlyFirst' | 'OnlySecond';
  /** 'Right' keeps the start of the text, 'Left' keeps its end. */
  direction: 'Right' | 'Left';
}

const STRATEGIES = ['LongestFirst', 'OnlyFirst', 'OnlySecond'];

/** Reads tokenizer.json's `truncation` (null: none). */
export function truncationFromJSON(v: unknown): TruncationParams | null {
  if (v === null || v === undefined) return null;
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || typeof o.max_length !== 'number' || !(o.max_length >= 0)) throw new Error(`truncation: expected null or { "max_length": n, "strategy": "LongestFirst" | "OnlyFirst" | "OnlySecond", "direction": "Right" | "Left" }, got ${JSON.stringify(v)}`);
  const strategy = (o.strategy ?? 'LongestFirst') as TruncationParams['strategy'];
  if (!STRATEGIES.includes(strategy)) throw new Error(`truncation.strategy: expected one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(o.strategy)}`);
  const direction = (o.direction ?? 'Right') as TruncationParams['direction'];
  if (direction !== 'Right' && direction !== 'Left') throw new Error(`truncation.direction: expected "Right" or "Left", got ${JSON.stringify(o.direction)}`);
  return { maxLength: o.max_length, strategy, direction };
}

/** Keeps n tokens of an encoding, from the start ('Right') or the end ('Left'). */
export function keepTokens(e: Encoding, n: number, direction: 'Right' | 'Left'): void {
  if (e.ids.length <= n) return;
  for (const k of Object.keys(e) as Array<keyof Encoding>) {
    const arr = e[k] as unknown[];
    if (direction === 'Right') arr.length = n;
    else arr.splice(0, arr.length - n);
  }
}

/** Cuts a sequence (or pair) to `budget` tokens, special tokens excluded, as the Rust library does. */
export function truncateEncodings(a: Encoding, b: Encoding | null, budget: number, strategy: TruncationParams['strategy'], direction: TruncationParams['direction']): void {
  const total = a.ids.length + (b?.ids.length ?? 0);
  if (total <= budget) return;
  if (strategy === 'LongestFirst') {
    if (!b) return keepTokens(a, budget, direction);
    // One token at a time from the longer sequence (the first on ties).
    let la = a.ids.length;
    let lb = b.ids.length;
    while (la + lb > budget) {
      if (la >= lb) la--;
      else lb--;
    }
    keepTokens(a, la, direction);
    keepTokens(b, lb, direction);
    return;
  }
  const target = strategy === 'OnlyFirst' ? a : b;
  if (!target) throw new Error('truncation: strategy OnlySecond needs a second sequence; pass a pair or use LongestFirst');
  const keep = target.ids.length - (total - budget);
  if (keep < 0) throw new Error(`truncation: the ${strategy === 'OnlyFirst' ? 'first' : 'second'} sequence is too short to remove ${total - budget} tokens with strategy ${strategy}; use LongestFirst or a larger max_length`);
  keepTokens(target, keep, direction);
}
