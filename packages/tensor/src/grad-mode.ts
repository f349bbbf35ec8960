import type { OpDef } from './op.js';
import type { Tensor } from './tensor.js';

/** What an op call leaves on its output so the autograd engine can replay the op's gradient rule. */
export interface GradNode {
  readonly op: OpDef<any>;
  readonly inputs: readonly Tensor[];
  readonly attrs: any;
}

let enabled = true;

/** Whether ops currently record gradient nodes. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` with gradient recording switched on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
