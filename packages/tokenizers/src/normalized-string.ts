/**
 * A string under normalization that remembers, for every UTF-16 unit of the normalized text, the
 * span of the original text it came from. This mirrors the Rust `NormalizedString` (which keeps
 * one alignment per UTF-8 byte); every rule below copies its semantics so offsets agree.
 */

/** One character of a transformation: the new char and its change (0 replace, 1 insert, -n removes n following). */
export type CharChange = [char: string, change: number];

/** How a split keeps the delimiters it found. */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** A match list covering the whole input: [start, end, isMatch] in UTF-16 units. */
export type MatchList = Array<[number, number, boolean]>;

/** Something that can find matches in a string (a literal or a regular expression). */
export interface Pattern {
  findMatches(s: string): MatchList;
}

/** A text with its original and normalized forms and the alignment between them. */
export class NormalizedString {
  original: string;
  normalized: string;
  /** For each unit of `normalized`: start of its span in `original`. */
  alignStart: Int32Array;
  /** For each unit of `normalized`: end of its span in `original`. */
  alignEnd: Int32Array;
  /** Offset of `original` inside the full input string. */
  originalShift: number;

  constructor(original: string, normalized?: string, alignStart?: Int32Array, alignEnd?: Int32Array, originalShift = 0) {
    this.original = original;
    this.normalized = normalized ?? original;
    this.originalShift = originalShift;
    if (alignStart && alignEnd) {
      this.alignStart = alignStart;
      this.alignEnd = alignEnd;
    } else {
      const n = original.length;
      this.alignStart = new Int32Array(n);
      this.alignEnd = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const c = original.charCodeAt(i);
        // A surrogate pair is one char: both units align to the pair's full span, as Rust's
        // per-byte alignments all point at the whole char.
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
          const d = original.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            this.alignStart[i] = i; this.alignEnd[i] = i + 2;
            this.alignStart[i + 1] = i; this.alignEnd[i + 1] = i + 2;
            i++;
            continue;
          }
        }
        this.alignStart[i] = i;
        this.alignEnd[i] = i + 1;
      }
    }
  }

  /** Length of the normalized string in UTF-16 units. */
  get length(): number {
    return this.normalized.length;
  }

  /** Converts a normalized [start, end) range to a range of the full original input. */
  originalRange(start: number, end: number): [number, number] {
    if (start === end) {
      if (this.normalized.length === 0 && start === 0) return [this.originalShift, this.originalShift + this.original.length];
      return [start + this.originalShift, end + this.originalShift];
    }
    return [this.alignStart[start]! + this.originalShift, this.alignEnd[end - 1]! + this.originalShift];
  }

  /**
   * Replaces normalized units [start, end) by the chars of `dest`, following Rust's
   * `transform_range`: `initialOffset` chars at the start of the range are removed first.
   */
  transformRange(start: number, end: number, dest: Iterable<CharChange>, initialOffset: number): void {
    const src = this.normalized;
    let offset = start;
    for (let k = 0; k < initialOffset && offset < end; k++) offset += charLengthAt(src, offset);
    const as: number[] = [];
    const ae: number[] = [];
    let out = '';
    const oldS = this.alignStart;
    const oldE = this.alignEnd;
    for (const [c, change] of dest) {
      let s: number;
      let e: number;
      if (change > 0) {
        if (offset < 1) { s = 0; e = 0; } else { s = oldS[offset - 1]!; e = oldE[offset - 1]!; }
      } else {
        s = oldS[offset]!; e = oldE[offset]!;
        offset += charLengthAt(src, offset);
        for (let k = 0; k < -change; k++) offset += charLengthAt(src, offset);
      }
      out += c;
      for (let u = 0; u < c.length; u++) { as.push(s); ae.push(e); }
    }
    const n = src.length - (end - start) + out.length;
    const ns = new Int32Array(n);
    const ne = new Int32Array(n);
    ns.set(oldS.subarray(0, start), 0);
    ne.set(oldE.subarray(0, start), 0);
    ns.set(as, start);
    ne.set(ae, start);
    ns.set(oldS.subarray(end), start + out.length);
    ne.set(oldE.subarray(end), start + out.length);
    this.alignStart = ns;
    this.alignEnd = ne;
    this.normalized = src.slice(0, start) + out + src.slice(end);
  }

  /** Transforms the whole normalized string (see `transformRange`). */
  transform(dest: Iterable<CharChange>, initialOffset: number): void {
    this.transformRange(0, this.normalized.length, dest, initialOffset);
  }

  /** Maps every char through `f`, keeping alignments when the UTF-16 length is unchanged. */
  mapChars(f: (c: string) => string): void {
    const src = this.normalized;
    let out = '';
    let sameLength = true;
    const changes: CharChange[] = [];
    for (const c of src) {
      const m = f(c);
      if (m.length !== c.length) sameLength = false;
      out += m;
      changes.push([m, 0]);
    }
    if (sameLength) { this.normalized = out; return; }
    this.transform(changes, 0);
  }

  /** Prepends `s`, aligned to the first char as Rust's `prepend` does. */
  prepend(s: string): void {
    if (this.normalized.length === 0) return;
    const first = String.fromCodePoint(this.normalized.codePointAt(0)!);
    const changes: CharChange[] = [];
    let i = 0;
    for (const c of s) changes.push([c, i++ === 0 ? 0 : 1]);
    changes.push([first, 1]);
    this.transformRange(0, first.length, changes, 0);
  }

  /** Appends `s`, aligned to the last char as Rust's `append` does. */
  append(s: string): void {
    const n = this.normalized;
    if (n.length === 0) return;
    const lastLen = n.length >= 2 && isLowSurrogate(n.charCodeAt(n.length - 1)) && isHighSurrogate(n.charCodeAt(n.length - 2)) ? 2 : 1;
    const last = n.slice(n.length - lastLen);
    const changes: CharChange[] = [[last, 0]];
    for (const c of s) changes.push([c, 1]);
    this.transformRange(n.length - lastLen, n.length, changes, 0);
  }

  /** Replaces every match of `pattern` by `content` (Rust `replace`). */
  replace(pattern: Pattern, content: string): void {
    const src = this.normalized;
    // One unit for one unit (Llama 2's ' ' → '▁'): every alignment stays as it is.
    const literal = (pattern as { literal?: unknown }).literal;
    if (typeof literal === 'string' && literal.length === 1 && content.length === 1 && !/[\ud800-\udfff]/.test(literal + content)) {
      this.normalized = src.replaceAll(literal, content);
      return;
    }
    const matches = pattern.findMatches(src);
    let any = false;
    for (const m of matches) if (m[2]) { any = true; break; }
    if (!any) return;
    // One pass instead of one transform per match (which is quadratic on long texts). Rust
    // inserts the content after removing the match, so every content unit takes the alignment
    // of the match's last unit ((0, 0) for an empty match at the very start).
    const oldS = this.alignStart;
    const oldE = this.alignEnd;
    let total = 0;
    for (const [s0, e0, isMatch] of matches) total += isMatch ? content.length : e0 - s0;
    const ns = new Int32Array(total);
    const ne = new Int32Array(total);
    const parts: string[] = [];
    let w = 0;
    for (const [s0, e0, isMatch] of matches) {
      if (!isMatch) {
        parts.push(src.slice(s0, e0));
        ns.set(oldS.subarray(s0, e0), w);
        ne.set(oldE.subarray(s0, e0), w);
        w += e0 - s0;
        continue;
      }
      parts.push(content);
      const a = e0 > 0 ? oldS[e0 - 1]! : 0;
      const b = e0 > 0 ? oldE[e0 - 1]! : 0;
      ns.fill(a, w, w + content.length);
      ne.fill(b, w, w + content.length);
      w += content.length;
    }
    this.normalized = parts.join('');
    this.alignStart = ns;
    this.alignEnd = ne;
  }

  /** Removes leading and/or trailing whitespace (Rust `lrstrip`). */
  strip(left: boolean, right: boolean): void {
    const chars = [...this.normalized];
    let lead = 0;
    if (left) while (lead < chars.length && isWhitespace(chars[lead]!)) lead++;
    let trail = 0;
    if (right) while (trail < chars.length - lead && isWhitespace(chars[chars.length - 1 - trail]!)) trail++;
    if (lead === 0 && trail === 0) return;
    const changes: CharChange[] = [];
    for (let i = lead; i < chars.length - trail; i++) changes.push([chars[i]!, i === chars.length - trail - 1 ? -trail : 0]);
    this.transform(changes, lead);
  }

  /** Keeps only chars for which `keep` is true (Rust `filter`). */
  filter(keep: (c: string) => boolean): void {
    const chars = [...this.normalized];
    const out: CharChange[] = [];
    let removed = 0;
    for (let i = chars.length - 1; i >= 0; i--) {
      const c = chars[i]!;
      if (keep(c)) {
        out.push([c, removed > 0 ? -removed : 0]);
        removed = 0;
      } else removed++;
    }
    if (out.length === chars.length) return;
    out.reverse();
    this.transform(out, removed);
  }

  /** A sub-string by normalized units, with alignments rebased onto its own original slice. */
  slice(start: number, end: number): NormalizedString {
    let os: number;
    let oe: number;
    if (start === end) { os = start; oe = end; } else { os = this.alignStart[start]!; oe = this.alignEnd[end - 1]!; }
    const as = this.alignStart.slice(start, end);
    const ae = this.alignEnd.slice(start, end);
    if (os !== 0) for (let i = 0; i < as.length; i++) { as[i]! -= os; ae[i]! -= os; }
    return new NormalizedString(this.original.slice(os, oe), this.normalized.slice(start, end), as, ae, this.originalShift + os);
  }

  /** Splits on `pattern` with the given delimiter behaviour (Rust `split`); empty pieces are dropped. */
  split(pattern: Pattern, behavior: SplitBehavior, invert = false): NormalizedString[] {
    let matches = pattern.findMatches(this.normalized);
    if (invert) matches = matches.map(([s, e, m]) => [s, e, !m]);
    const pieces = splitPieces(matches, behavior);
    const out: NormalizedString[] = [];
    for (const [s, e] of pieces) if (e > s) out.push(this.slice(s, e));
    return out;
  }
}

/** Turns a match list into kept pieces according to the delimiter behaviour. */
export function splitPieces(matches: MatchList, behavior: SplitBehavior): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  switch (behavior) {
    case 'Isolated':
      for (const [s, e] of matches) out.push([s, e]);
      return out;
    case 'Removed':
      for (const [s, e, m] of matches) if (!m) out.push([s, e]);
      return out;
    case 'Contiguous': {
      let prev = false;
      for (const [s, e, m] of matches) {
        if (m === prev && out.length > 0) out[out.length - 1]![1] = e;
        else out.push([s, e]);
        prev = m;
      }
      return out;
    }
    case 'MergedWithPrevious': {
      let prev = false;
      for (const [s, e, m] of matches) {
        if (m && !prev && out.length > 0) out[out.length - 1]![1] = e;
        else out.push([s, e]);
        prev = m;
      }
      return out;
    }
    case 'MergedWithNext': {
      let prev = false;
      for (let i = matches.length - 1; i >= 0; i--) {
        const [s, e, m] = matches[i]!;
        if (m && !prev && out.length > 0) out[out.length - 1]![0] = s;
        else out.push([s, e]);
        prev = m;
      }
      out.reverse();
      return out;
    }
    default:
      throw new Error(`split: unknown behavior ${JSON.stringify(behavior)}; expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous`);
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** UTF-16 length of the char starting at unit `i`. */
export function charLengthAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return isHighSurrogate(c) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1)) ? 2 : 1;
}

function countChars(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i += charLengthAt(s, i)) n++;
  return n;
}

const WHITESPACE = /^\s$/u;

/** Rust's `char::is_whitespace`: the Unicode White_Space property. */
export function isWhitespace(c: string): boolean {
  // JS `\s` adds U+FEFF and lacks U+0085 compared with White_Space.
  if (c === '\u0085') return true;
  if (c === '\ufeff') return false;
  return WHITESPACE.test(c);
}
