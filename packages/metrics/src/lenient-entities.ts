import type { Entity } from './entity.js';

function split(tag: string, suffix: boolean): [prefix: string, type: string] {
  // seqeval's parsing: 'O' has type '_', 'B-PER' has type 'PER'; suffix style is 'PER-B'.
  if (suffix) {
    const head = tag.slice(0, -1);
    const j = head.lastIndexOf('-');
    return [tag.slice(-1), (j >= 0 ? head.slice(0, j) : head) || '_'];
  }
  const rest = tag.slice(1);
  const i = rest.indexOf('-');
  return [tag.slice(0, 1), (i >= 0 ? rest.slice(i + 1) : rest) || '_'];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** Entities of one sentence as seqeval's default (conlleval-like, lenient) `get_entities` reads any of IOB1/IOB2/IOE/IOBES. */
export function lenientEntities(tags: readonly string[], sentence = 0, suffix = false): Entity[] {
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  const out: Entity[] = [];
  for (let i = 0; i <= tags.length; i++) {
    const [tag, type] = split(i < tags.length ? tags[i]! : 'O', suffix);
    if (endOfChunk(prevTag, tag, prevType, type)) out.push({ sentence, type: prevType, start: begin, end: i });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return out;
}
