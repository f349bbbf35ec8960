/** One labelled span: sentence index, entity type and token range [start, end). */
export interface Entity {
  sentence: number;
  type: string;
  start: number;
  end: number;
}

/** Key of an entity for set comparison. */
export function entityKey(e: Entity): string {
  return `${e.sentence}\u0000${e.type}\u0000${e.start}\u0000${e.end}`;
}
