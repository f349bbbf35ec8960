import { Module } from '@tessera/nn';

/** A numbered list of child modules (PyTorch's ModuleList): names them 0, 1, ... as HF's `h.0`, `layer.0`. */
export class ModuleList<M extends Module> extends Module {
  constructor(items: M[]) {
    super();
    items.forEach((m, i) => this.child(i, m));
  }

  /** The modules in order; read from the children so `replaceChild('3', ...)` takes effect. */
  get items(): M[] {
    return this.namedChildren().map(([, m]) => m as M);
  }
}
