import type { Encoding } from '../encoding.js';

/** An encoding holding special tokens only (offsets 0,0; special mask 1). */
export function specialTokenEncoding(ids: number[], tokens: string[], typeId: number): Encoding {
  return {
    ids: ids.slice(),
    tokens: tokens.slice(),
    offsets: ids.map(() => [0, 0] as [number, number]),
    attentionMask: ids.map(() => 1),
    specialTokensMask: ids.map(() => 1),
    typeIds: ids.map(() => typeId),
    wordIds: ids.map(() => null),
    sequenceIds: ids.map(() => null),
  };
}

/** Sets every type id of an encoding and returns it. */
export function withTypeId(e: Encoding, typeId: number): Encoding {
  e.typeIds = e.ids.map(() => typeId);
  return e;
}
