/**
 * Runs tasks one at a time in arrival order. The server holds one model whose active adapter is
 * switched per request, so generation is serialised: concurrent requests wait their turn and each
 * gets exactly the result it would get alone.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  /** Requests queued or running. */
  get size(): number {
    return this.#waiting;
  }

  /** Runs `task` after every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#waiting++;
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined).finally(() => void this.#waiting--);
    return result;
  }
}
