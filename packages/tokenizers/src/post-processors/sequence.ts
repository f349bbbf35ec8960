import type { Encoding } from '../encoding.js';
import type { PostProcessor } from './post-processor.js';

/** Runs post-processors in order. */
export class SequenceProcessor implements PostProcessor {
  constructor(readonly processors: PostProcessor[]) {}
  addedTokens(isPair: boolean): number {
    return this.processors.reduce((n, p) => n + p.addedTokens(isPair), 0);
  }
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding {
    // Later stages see one already-combined encoding, as in the Rust library.
    let out = a;
    let pair = b;
    for (const p of this.processors) {
      out = p.process(out, pair, addSpecialTokens);
      pair = null;
    }
    return out;
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', processors: this.processors.map((p) => p.toJSON()) };
  }
}
