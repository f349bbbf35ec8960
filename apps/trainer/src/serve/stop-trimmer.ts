/**
 * OpenAI's `stop` semantics on a stream of text: the reply ends before the first stop sequence and
 * never contains it. Text that could still be the start of a stop sequence is held back until the
 * next delta decides it, so streamed and non-streamed replies are the same text.
 */
export class StopTrimmer {
  #text = '';
  #emitted = 0;
  stopped = false;
  constructor(readonly stops: readonly string[]) {}

  /** Adds generated text; returns the part that is now safe to send. */
  push(delta: string): string {
    if (this.stopped) return '';
    this.#text += delta;
    let end = this.#text.length;
    for (const s of this.stops) {
      const at = this.#text.indexOf(s, Math.max(0, this.#emitted - s.length + 1));
      if (at >= 0 && at < end) {
        end = at;
        this.stopped = true;
      }
    }
    if (!this.stopped) end -= this.#heldBack();
    const out = this.#text.slice(this.#emitted, end);
    this.#emitted = Math.max(this.#emitted, end);
    return out;
  }

  /** The rest once generation has ended without a stop sequence. */
  flush(): string {
    if (this.stopped) return '';
    const out = this.#text.slice(this.#emitted);
    this.#emitted = this.#text.length;
    return out;
  }

  // Longest tail of the text that is a proper prefix of some stop sequence.
  #heldBack(): number {
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.#text.length); k > hold; k--) {
        if (this.#text.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}
