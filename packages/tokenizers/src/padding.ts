import type { Encoding } from './encoding.js';

/** How encodings are padded (tokenizer.json `padding`). */
export interface PaddingParams {
  /** 'BatchLongest' pads to the longest of a batch; a number pads to that fixed length. */
  length: 'BatchLongest' | number;
  direction: 'Right' | 'Left';
  padToMultipleOf: number | null;
  padId: number;
  padTypeId: number;
  padToken: string;
}

/** Reads tokenizer.json's `padding` (null: none). */
export function paddingFromJSON(v: unknown): PaddingParams | null {
  if (v === null || v === undefined) return null;
  const o = v as Record<string, unknown>;
  const shape = '{ "strategy": "BatchLongest" | { "Fixed": n }, "direction": "Right" | "Left", "pad_to_multiple_of": n | null, "pad_id": n, "pad_type_id": n, "pad_token": string }';
  if (typeof o !== 'object') throw new Error(`padding: expected null or ${shape}, got ${JSON.stringify(v)}`);
  let length: PaddingParams['length'];
  const st = o.strategy as unknown;
  if (st === undefined || st === 'BatchLongest') length = 'BatchLongest';
  else if (st && typeof st === 'object' && typeof (st as { Fixed?: unknown }).Fixed === 'number') length = (st as { Fixed: number }).Fixed;
  else throw new Error(`padding.strategy: expected "BatchLongest" or { "Fixed": n }, got ${JSON.stringify(st)}`);
  const direction = (o.direction ?? 'Right') as PaddingParams['direction'];
  if (direction !== 'Right' && direction !== 'Left') throw new Error(`padding.direction: expected "Right" or "Left", got ${JSON.stringify(o.direction)}`);
  if (typeof o.pad_id !== 'number' && o.pad_id !== undefined) throw new Error(`padding.pad_id: expected a token id, got ${JSON.stringify(o.pad_id)}`);
  return {
    length,
    direction,
    padToMultipleOf: typeof o.pad_to_multiple_of === 'number' ? o.pad_to_multiple_of : null,
    padId: (o.pad_id as number | undefined) ?? 0,
    padTypeId: typeof o.pad_type_id === 'number' ? o.pad_type_id : 0,
    padToken: typeof o.pad_token === 'string' ? o.pad_token : '[PAD]',
  };
}

/** Rounds a length up to a multiple (null or 0: unchanged). */
export function roundUpTo(n: number, multiple: number | null | undefined): number {
  return multiple && n % multiple !== 0 ? n + multiple - (n % multiple) : n;
}

/** Pads an encoding to `target` tokens with the pad token (attention 0, special 1, offsets [0, 0]). */
export function padEncoding(e: Encoding, target: number, padId: number, padText: string, side: 'left' | 'right', padTypeId = 0): void {
  const n = target - e.ids.length;
  if (n <= 0) return;
  const fill = <T>(arr: T[], v: () => T): void => {
    const pad = Array.from({ length: n }, v);
    if (side === 'right') for (const x of pad) arr.push(x);
    else {
      const rest = arr.splice(0);
      for (const x of pad) arr.push(x);
      for (const x of rest) arr.push(x);
    }
  };
  fill(e.ids, () => padId);
  fill(e.tokens, () => padText);
  fill(e.offsets, () => [0, 0] as [number, number]);
  fill(e.attentionMask, () => 0);
  fill(e.specialTokensMask, () => 1);
  fill(e.typeIds, () => padTypeId);
  fill(e.wordIds, () => null);
  fill(e.sequenceIds, () => null);
}
