import type { MatchList, Pattern } from './normalized-string.js';
import { charLengthAt } from './normalized-string.js';

/** A literal string pattern: every non-overlapping occurrence matches. */
export class StringPattern implements Pattern {
  constructor(readonly literal: string) {}

  /** Finds every occurrence of the literal, covering the rest with non-matches. */
  findMatches(s: string): MatchList {
    if (s.length === 0) return [[0, 0, false]];
    const lit = this.literal;
    if (lit.length === 0) return [[0, s.length, false]];
    const out: MatchList = [];
    let prev = 0;
    let i = s.indexOf(lit);
    while (i !== -1) {
      if (i > prev) out.push([prev, i, false]);
      out.push([i, i + lit.length, true]);
      prev = i + lit.length;
      i = s.indexOf(lit, prev);
    }
    if (prev < s.length) out.push([prev, s.length, false]);
    return out;
  }
}

/** A regular expression pattern written in Oniguruma syntax, as tokenizer.json stores it. */
export class RegexPattern implements Pattern {
  readonly regex: RegExp;

  constructor(readonly source: string) {
    try {
      this.regex = new RegExp(onigurumaToJs(source), 'gu');
    } catch (err) {
      throw new Error(`pattern: cannot compile regex ${JSON.stringify(source)} (${(err as Error).message}); use a pattern within the JavaScript RegExp 'u' syntax`);
    }
  }

  /** Finds every match left to right; empty matches split nothing. */
  findMatches(s: string): MatchList {
    if (s.length === 0) return [[0, 0, false]];
    const re = this.regex;
    re.lastIndex = 0;
    const out: MatchList = [];
    let prev = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      const start = m.index;
      const end = start + m[0].length;
      if (start === end) {
        // Step over one char so that an empty match never loops.
        re.lastIndex = end + (end < s.length ? charLengthAt(s, end) : 1);
        if (end >= s.length) break;
        continue;
      }
      if (start > prev) out.push([prev, start, false]);
      out.push([start, end, true]);
      prev = end;
    }
    if (prev < s.length) out.push([prev, s.length, false]);
    return out;
  }
}

// Oniguruma's `\s` is the Unicode White_Space property; JavaScript's adds U+FEFF and lacks U+0085.
const SPACE_CLASS_BODY = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * Rewrites the Oniguruma constructs found in real tokenizer.json files into JavaScript syntax:
 * scoped case-insensitive groups `(?i:...)`, and `\s`/`\S` with Unicode White_Space semantics.
 */
export function onigurumaToJs(src: string): string {
  let out = '';
  let inClass = false;
  const caseStack: boolean[] = [];
  let caseInsensitive = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === 's') out += inClass ? SPACE_CLASS_BODY : `[${SPACE_CLASS_BODY}]`;
      else if (n === 'S') {
        if (inClass) throw new Error('pattern: \\S inside a character class is not supported');
        out += `[^${SPACE_CLASS_BODY}]`;
      } else if (n === 'p' || n === 'P') {
        const close = src.indexOf('}', i);
        out += src.slice(i, close + 1);
        i = close;
        continue;
      } else if (n === 'h') out += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else out += c + (n ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += caseInsensitive && /[a-zA-Z]/.test(c) && src[i + 1] !== '-' && src[i - 1] !== '-' ? c.toLowerCase() + c.toUpperCase() : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') { out += '^'; i++; }
      continue;
    }
    if (c === '(') {
      if (src.startsWith('(?i:', i)) {
        caseStack.push(caseInsensitive);
        caseInsensitive = true;
        out += '(?:';
        i += 3;
        continue;
      }
      caseStack.push(caseInsensitive);
      out += c;
      continue;
    }
    if (c === ')') {
      caseInsensitive = caseStack.pop() ?? false;
      out += c;
      continue;
    }
    if (caseInsensitive && /[a-zA-Z]/.test(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
      continue;
    }
    out += c;
  }
  return out;
}

/** Reads a tokenizer.json pattern object: `{ String: "..." }` or `{ Regex: "..." }`. */
export function patternFromJSON(json: unknown, where: string): Pattern {
  const p = json as { String?: string; Regex?: string } | null;
  if (p && typeof p.String === 'string') return new StringPattern(p.String);
  if (p && typeof p.Regex === 'string') return new RegexPattern(p.Regex);
  throw new Error(`${where}.pattern: expected { "String": string } or { "Regex": string }, got ${JSON.stringify(json)}`);
}
