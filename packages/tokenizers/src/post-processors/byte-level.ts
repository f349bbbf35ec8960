import type { Encoding } from '../encoding.js';
import { appendEncoding, emptyEncoding } from '../encoding.js';
import { isWhitespace } from '../normalized-string.js';
import type { PostProcessor } from './post-processor.js';

const SPACE_CHAR = 'Ġ';

/**
 * Shrinks each token's offsets past the leading/trailing spaces it encodes (Rust
 * `process_offsets`), keeping the one space a prefix-space pre-tokenizer added to the first token.
 */
export function trimByteLevelOffsets(e: Encoding, addPrefixSpace: boolean): void {
  e.tokens.forEach((token, i) => {
    const off = e.offsets[i]!;
    const chars = [...token];
    let lead = 0;
    while (lead < chars.length && (chars[lead] === SPACE_CHAR || isWhitespace(chars[lead]!))) lead++;
    let trail = 0;
    while (trail < chars.length && (chars[chars.length - 1 - trail] === SPACE_CHAR || isWhitespace(chars[chars.length - 1 - trail]!))) trail++;
    if (lead === 0 && trail === 0) return;
    if (lead > 0) {
      const isFirst = i === 0 || off[0] === 0;
      if (isFirst && addPrefixSpace && lead === 1) lead = 0;
      off[0] = Math.min(off[0] + lead, off[1]);
    }
    if (trail > 0 && off[1] >= trail) off[1] = Math.max(off[1] - trail, off[0]);
  });
}

/** The ByteLevel post-processor: only trims offsets when `trim_offsets` is set. */
export class ByteLevelPostProcessor implements PostProcessor {
  constructor(readonly addPrefixSpace: boolean, readonly trimOffsets: boolean, private readonly json: Record<string, unknown>) {}
  addedTokens(): number {
    return 0;
  }
  process(a: Encoding, b: Encoding | null): Encoding {
    if (this.trimOffsets) {
      trimByteLevelOffsets(a, this.addPrefixSpace);
      if (b) trimByteLevelOffsets(b, this.addPrefixSpace);
    }
    if (!b) return a;
    const out = emptyEncoding();
    appendEncoding(out, a);
    appendEncoding(out, { ...b, typeIds: b.ids.map(() => 1) });
    return out;
  }
  toJSON(): Record<string, unknown> {
    return this.json;
  }
}
