import { concat, keep, type Tensor } from '@tessera/tensor';

/** Keys and values of past positions per layer, so generation feeds one new token at a time. */
export class KVCache {
  readonly #layers: ({ k: Tensor; v: Tensor } | undefined)[] = [];

  /** Number of cached positions of layer 0 (0 when empty): the position of the next token. */
  get length(): number {
    return this.lengthOf(0);
  }

  /** Cached positions of one layer; layers fill in turn during a forward pass, so each keeps its own count. */
  lengthOf(layer: number): number {
    return this.#layers[layer]?.k.shape[2] ?? 0;
  }

  /** Appends new keys/values (B, Hkv, T, D) for a layer and returns the full ones; the cache keeps its own references. */
  update(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const past = this.#layers[layer];
    const next = past ? { k: concat([past.k, k], 2), v: concat([past.v, v], 2) } : { k: k.clone(), v: v.clone() };
    keep(next.k);
    keep(next.v);
    past?.k.dispose();
    past?.v.dispose();
    this.#layers[layer] = next;
    return next;
  }

  /** Drops cached positions beyond `length` (for rejected speculative tokens or a reset). */
  truncate(length: number): void {
    this.#layers.forEach((l, i) => {
      if (!l || l.k.shape[2]! <= length) return;
      const k = keep(l.k.slice(2, 0, length).clone());
      const v = keep(l.v.slice(2, 0, length).clone());
      l.k.dispose();
      l.v.dispose();
      this.#layers[i] = { k, v };
    });
  }

  /** Frees every cached tensor. */
  dispose(): void {
    for (const l of this.#layers) {
      l?.k.dispose();
      l?.v.dispose();
    }
    this.#layers.length = 0;
  }
}
