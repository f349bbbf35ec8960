import type { RequestName, StudioRequests, WorkerEvent, WorkerReply, WorkerRequest } from './studio-protocol.js';

/** The page's side of the worker: typed requests that resolve with the worker's reply, and an event callback. */
export class StudioClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #next = 1;

  constructor(onEvent: (e: WorkerEvent) => void) {
    this.#worker = new Worker(new URL('./studio-worker.ts', import.meta.url), { type: 'module', name: 'tessera-studio-trainer' });
    this.#worker.onmessage = (m: MessageEvent<WorkerReply | WorkerEvent>) => {
      const data = m.data;
      if ('event' in data) return onEvent(data);
      const p = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (data.ok) p?.resolve(data.result);
      else p?.reject(new Error(data.error));
    };
    this.#worker.onerror = (e) => {
      const err = new Error(`the training worker failed: ${e.message || 'it could not start (see the console)'}`);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
  }

  /** Sends a request; large buffers in `transfer` move to the worker instead of being copied. */
  call<K extends RequestName>(type: K, payload: StudioRequests[K]['in'], transfer: Transferable[] = []): Promise<StudioRequests[K]['out']> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, type, payload } as WorkerRequest, transfer);
    });
  }
}
