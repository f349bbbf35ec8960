import { NormalizedString } from './normalized-string.js';
import type { Normalizer } from './normalizers/normalizer.js';
import { isWordChar } from './pre-tokenizers/whitespace.js';

/** A token added on top of the model vocabulary (special tokens and user tokens). */
export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of input: either plain text to tokenize, or an added token already found. */
export interface InputPiece {
  text: NormalizedString;
  token: AddedToken | null;
}

interface TrieNode {
  next: Map<number, TrieNode>;
  token: AddedToken | null;
  /** At the root only: 1 for every UTF-16 unit some token starts with (a fast reject). */
  first?: Uint8Array;
}

// Rust regex's Unicode `\s`, used by lstrip/rstrip.
const SPACE = /[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Matches added tokens in text, leftmost-longest, like the Rust `AddedVocabulary`. */
export class AddedVocabulary {
  readonly tokens: AddedToken[];
  private readonly byContent = new Map<string, AddedToken>();
  private readonly byId = new Map<number, AddedToken>();
  private readonly rawTrie: TrieNode;
  private normalizedTrie: TrieNode;
  private readonly specialContents = new Set<string>();

  constructor(tokens: AddedToken[], normalizer: Normalizer | null) {
    this.tokens = tokens;
    for (const t of tokens) {
      this.byContent.set(t.content, t);
      this.byId.set(t.id, t);
      if (t.special) this.specialContents.add(t.content);
    }
    // Special tokens take part before the others, as in Rust's trie construction order.
    const ordered = [...tokens.filter((t) => t.special), ...tokens.filter((t) => !t.special)];
    this.rawTrie = buildTrie(ordered.filter((t) => !t.normalized).map((t) => [t.content, t]));
    this.normalizedTrie = buildTrie(
      ordered.filter((t) => t.normalized).map((t) => {
        const n = new NormalizedString(t.content);
        normalizer?.normalize(n);
        return [n.normalized, t];
      }),
    );
  }

  /** The added token with this content, if any. */
  byText(content: string): AddedToken | undefined {
    return this.byContent.get(content);
  }

  /** The added token with this id, if any. */
  byTokenId(id: number): AddedToken | undefined {
    return this.byId.get(id);
  }

  /** Whether a token string is one of the special added tokens. */
  isSpecial(content: string): boolean {
    return this.specialContents.has(content);
  }

  /**
   * Splits the text on raw added tokens, normalizes the rest, then splits that on normalized
   * added tokens. Empty pieces are dropped.
   */
  extractAndNormalize(text: string, normalizer: Normalizer | null): InputPiece[] {
    const first = this.splitOn(new NormalizedString(text), this.rawTrie);
    const out: InputPiece[] = [];
    for (const p of first) {
      if (p.token) { out.push(p); continue; }
      normalizer?.normalize(p.text);
      if (p.text.normalized.length === 0) continue;
      for (const q of this.splitOn(p.text, this.normalizedTrie)) if (q.token || q.text.normalized.length > 0) out.push(q);
    }
    return out;
  }

  private splitOn(n: NormalizedString, trie: TrieNode): InputPiece[] {
    const s = n.normalized;
    // Rust slices every piece by its normalized range, even a whole one: a piece whose leading
    // chars the normalizer removed then starts later in the original (Metaspace's "first" reads it).
    if (trie.next.size === 0 || s.length === 0) return s.length === 0 ? [] : [{ text: n.alignStart[0] === 0 ? n : n.slice(0, s.length), token: null }];
    const out: InputPiece[] = [];
    let startOffset = 0;
    let i = 0;
    const first = trie.first!;
    while (i < s.length) {
      // Leftmost-longest: the longest token starting at the first position where any starts.
      const c0 = s.charCodeAt(i);
      if (first[c0] === 0) { i++; continue; }
      let node = trie.next.get(c0);
      if (!node) { i++; continue; }
      let best: AddedToken | null = null;
      let bestEnd = -1;
      let j = i + 1;
      for (;;) {
        if (node.token) { best = node.token; bestEnd = j; }
        if (j >= s.length) break;
        const nx: TrieNode | undefined = node.next.get(s.charCodeAt(j));
        if (!nx) break;
        node = nx;
        j++;
      }
      if (!best) { i++; continue; }
      let start = i;
      let stop = bestEnd;
      i = bestEnd;
      if (best.singleWord) {
        const before = [...s.slice(Math.max(0, start - 2), start)].pop();
        const after = String.fromCodePoint(s.codePointAt(stop) ?? 32);
        const startSpace = start === 0 || !isWordChar(before!);
        const stopSpace = stop === s.length || !isWordChar(after);
        if (!startSpace || !stopSpace) continue;
      }
      if (best.lstrip) {
        let k = start;
        while (k > 0 && SPACE.test(s[k - 1]!)) k--;
        start = Math.max(k, startOffset);
      }
      if (best.rstrip) {
        // The scan resumes at the match end, not after the stripped spaces, as Rust's find_iter does.
        while (stop < s.length && SPACE.test(s[stop]!)) stop++;
      }
      if (startOffset < start) out.push({ text: n.slice(startOffset, start), token: null });
      out.push({ text: n.slice(start, stop), token: best });
      startOffset = stop;
    }
    if (startOffset < s.length) out.push({ text: n.slice(startOffset, s.length), token: null });
    return out;
  }
}

function buildTrie(entries: Array<[string, AddedToken]>): TrieNode {
  const root: TrieNode = { next: new Map(), token: null, first: new Uint8Array(0x10000) };
  for (const [content, token] of entries) {
    if (content.length === 0) continue;
    let node = root;
    root.first![content.charCodeAt(0)] = 1;
    for (let i = 0; i < content.length; i++) {
      const c = content.charCodeAt(i);
      let nx = node.next.get(c);
      if (!nx) { nx = { next: new Map(), token: null }; node.next.set(c, nx); }
      node = nx;
    }
    // The first token registered for a content wins, as Rust keeps the first pattern id.
    if (!node.token) node.token = token;
  }
  return root;
}
