import type { Entity } from './entity.js';

/** Tagging schemes of seqeval's strict mode. */
export type TaggingScheme = 'IOB1' | 'IOB2' | 'IOE1' | 'IOE2' | 'IOBES' | 'BILOU';

type TagCond = 'same' | 'diff' | 'any';
/** (previous prefixes, current prefixes, type condition): seqeval.scheme's pattern triples. */
type Pattern = [string, string, TagCond];

interface SchemeRules {
  allowed: string;
  start: Pattern[];
  inside: Pattern[];
  end: Pattern[];
}

const ANY = 'IOBESUL';

// Transcribed from seqeval.scheme (v1.2): a strict entity starts on a start pattern, extends while the
// inside patterns hold, and counts only if the token after it satisfies an end pattern.
const RULES: Record<TaggingScheme, SchemeRules> = {
  IOB1: {
    allowed: 'IOB',
    // (B, I, any): seqeval starts a chunk on any I after a B, so B-PER I-PER is the entity (PER, 1, 2)
    // (test_scheme.py test_iob1_tokens), not nothing.
    start: [['O', 'I', 'any'], ['I', 'I', 'diff'], ['B', 'I', 'any'], ['I', 'B', 'same'], ['B', 'B', 'same']],
    inside: [['B', 'I', 'same'], ['I', 'I', 'same']],
    end: [['I', 'I', 'diff'], ['I', 'O', 'any'], ['I', 'B', 'any'], ['B', 'O', 'any'], ['B', 'I', 'diff'], ['B', 'B', 'same']],
  },
  IOB2: {
    allowed: 'IOB',
    start: [[ANY, 'B', 'any']],
    inside: [['B', 'I', 'same'], ['I', 'I', 'same']],
    end: [['I', 'O', 'any'], ['I', 'I', 'diff'], ['I', 'B', 'any'], ['B', 'O', 'any'], ['B', 'I', 'diff'], ['B', 'B', 'any']],
  },
  IOE1: {
    allowed: 'IOE',
    start: [['O', 'I', 'any'], ['I', 'I', 'diff'], ['E', 'I', 'any'], ['E', 'E', 'same']],
    inside: [['I', 'I', 'same'], ['I', 'E', 'same']],
    end: [['I', 'I', 'diff'], ['I', 'O', 'any'], ['I', 'E', 'diff'], ['E', 'I', 'same'], ['E', 'E', 'same']],
  },
  IOE2: {
    allowed: 'IOE',
    start: [['O', 'I', 'any'], ['O', 'E', 'any'], ['E', 'I', 'any'], ['E', 'E', 'any'], ['I', 'I', 'diff'], ['I', 'E', 'diff']],
    inside: [['I', 'E', 'same'], ['I', 'I', 'same']],
    end: [['E', 'O', 'any'], ['E', 'E', 'any'], ['E', 'I', 'any']],
  },
  IOBES: {
    allowed: 'IOBES',
    start: [[ANY, 'B', 'any'], [ANY, 'S', 'any']],
    inside: [['B', 'I', 'same'], ['B', 'E', 'same'], ['I', 'I', 'same'], ['I', 'E', 'same']],
    end: [['S', ANY, 'any'], ['E', ANY, 'any']],
  },
  BILOU: {
    allowed: 'BILOU',
    start: [[ANY, 'B', 'any'], [ANY, 'U', 'any']],
    inside: [['B', 'I', 'same'], ['B', 'L', 'same'], ['I', 'I', 'same'], ['I', 'L', 'same']],
    end: [['U', ANY, 'any'], ['L', ANY, 'any']],
  },
};

interface Tok {
  prefix: string;
  type: string;
}

function parse(tag: string, suffix: boolean, scheme: TaggingScheme): Tok {
  const prefix = suffix ? tag.slice(-1) : tag.slice(0, 1);
  const type = (suffix ? tag.slice(0, -1) : tag.slice(1)).replace(/^-+|-+$/g, '') || '_';
  if (!RULES[scheme].allowed.includes(prefix) || prefix === '') {
    throw new Error(`seqeval: tag ${JSON.stringify(tag)} has prefix ${JSON.stringify(prefix)}, which ${scheme} does not allow (allowed: ${[...RULES[scheme].allowed].join(', ')}); pick the scheme your tags use`);
  }
  return { prefix, type };
}

function matches(prev: Tok, cur: Tok, patterns: Pattern[]): boolean {
  return patterns.some(([p, c, cond]) => p.includes(prev.prefix) && c.includes(cur.prefix) && (cond === 'any' || (cond === 'same') === (prev.type === cur.type)));
}

/** Entities of one sentence under a scheme's strict grammar (seqeval `mode='strict'`): ill-formed chunks count as nothing. */
export function strictEntities(tags: readonly string[], scheme: TaggingScheme, sentence = 0, suffix = false): Entity[] {
  const rules = RULES[scheme];
  if (!rules) throw new Error(`seqeval: unknown scheme ${JSON.stringify(scheme)}; use one of ${Object.keys(RULES).join(', ')}`);
  const outside: Tok = { prefix: 'O', type: '_' };
  const toks = [...tags.map((t) => parse(t, suffix, scheme)), outside];
  const out: Entity[] = [];
  let i = 0;
  let prev = outside;
  while (i < toks.length) {
    const tok = toks[i]!;
    if (matches(prev, tok, rules.start)) {
      let end = i + 1;
      let last = tok;
      while (end < toks.length && matches(last, toks[end]!, rules.inside)) last = toks[end++]!;
      if (end >= toks.length) end = toks.length - 1;
      if (matches(toks[end - 1]!, toks[end]!, rules.end)) out.push({ sentence, type: tok.type, start: i, end });
      i = end;
    } else i++;
    prev = toks[i - 1]!;
  }
  return out;
}
