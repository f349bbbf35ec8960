/**
 * SentencePiece's `precompiled_charsmap`: a Darts double-array trie over UTF-8 bytes whose leaf
 * values are offsets into a blob of NUL-terminated replacement strings. Layout (little endian):
 * [u32 trie byte length][trie units: u32 each][replacement blob]. Read as the Rust
 * `spm_precompiled` crate reads it, so lookups agree with the reference library.
 */
export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly blob: Uint8Array;
  private readonly decoded = new Map<number, string>();

  constructor(bytes: Uint8Array) {
    if (bytes.length < 4) throw new Error(`precompiled_charsmap: ${bytes.length} bytes is too short; expected [u32 trie size][trie][strings] as SentencePiece writes it`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > bytes.length || trieBytes === 0) {
      throw new Error(`precompiled_charsmap: trie size ${trieBytes} does not fit the ${bytes.length}-byte map; expected a SentencePiece normalizer_spec.precompiled_charsmap`);
    }
    const n = trieBytes / 4;
    this.units = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.blob = bytes.subarray(4 + trieBytes);
  }

  /** Decodes the base64 text stored in tokenizer.json. */
  static fromBase64(b64: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(base64ToBytes(b64));
  }

  /**
   * The replacement of the shortest key that is a prefix of bytes[start, end) (Rust
   * `common_prefix_search(..)[0]`, which is what `Precompiled::transform` uses), or null.
   */
  shortestPrefixReplacement(bytes: Uint8Array, start: number, end: number): string | null {
    const u = this.units;
    let pos = offsetOf(u[0]!);
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c === 0) return null;
      pos ^= c;
      const unit = u[pos];
      // A label carries the byte in its low 8 bits; bit 31 marks a non-label unit.
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== c) return null;
      pos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) return this.stringAt(u[pos]! & 0x7fffffff);
    }
    return null;
  }

  private stringAt(index: number): string {
    let s = this.decoded.get(index);
    if (s !== undefined) return s;
    let e = index;
    while (e < this.blob.length && this.blob[e] !== 0) e++;
    s = utf8.decode(this.blob.subarray(index, e));
    this.decoded.set(index, s);
    return s;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Standard base64 (with or without padding) to bytes; works in Node and browsers alike. */
export function base64ToBytes(s: string): Uint8Array {
  let len = s.length;
  while (len > 0 && s.charCodeAt(len - 1) === 61) len--;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let w = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) throw new Error(`precompiled_charsmap: invalid base64 char ${JSON.stringify(s[i])} at ${i}; expected standard base64 text`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[w++] = (acc >>> bits) & 0xff;
    }
  }
  return out.subarray(0, w);
}
