import type { Module } from '@tessera/nn';
import { clone, tidy, type Tensor } from '@tessera/tensor';

/**
 * The loaded weights of the modules a PEFT adapter trains whole (modules_to_save, e.g. the token
 * embeddings). PeftModel trains a copy in place, so switching adapters off leaves those modules
 * trained; `during` puts the originals back for the length of a base-model run (chat or evaluation
 * "without adapter") and restores the trained values after.
 */
export class ModuleOriginals {
  readonly #saved: Array<[Tensor, Tensor]> = [];

  /** Copies the current parameters of every module whose path is or ends with one of `modules`; call before training. */
  constructor(model: Module, modules: readonly string[]) {
    for (const [path, t] of model.namedParameters()) {
      if (modules.some((m) => path.startsWith(`${m}.`) || path.includes(`.${m}.`))) this.#saved.push([t, tidy(() => clone(t))]);
    }
  }

  /** Runs `fn` with the original weights in place; storages are reference-counted, so `assign` shares rather than copies. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    const trained = this.#saved.map(([t, original]) => {
      const kept = tidy(() => clone(t));
      t.assign(original);
      return kept;
    });
    try {
      return await fn();
    } finally {
      this.#saved.forEach(([t], i) => {
        t.assign(trained[i]!);
        trained[i]!.dispose();
      });
    }
  }
}
