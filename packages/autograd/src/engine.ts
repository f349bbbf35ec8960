// The reverse-mode engine: orders the recorded graph, replays each op's gradient rule (written in
// ops, so it runs on any backend), sums broadcast gradients back to input shapes, and accumulates.
import { add, cast, keep, ones, tidy, withGradMode, type Tensor } from '@tessera/tensor';
import { joinBlockGradients, type BlockGradient } from './block-gradients.js';
import { sumToShape } from './sum-to-shape.js';

/** How gradients that reach leaves outside the requested targets are treated. */
type LeafMode = 'accumulate' | 'ignore';
let leafMode: LeafMode = 'accumulate';

/** Tensors reachable from `root` through recorded nodes, in an order where each comes before its inputs. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative post-order DFS: deep graphs (long training loops of ops) must not overflow the stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradNode?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i]!;
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

export interface RunOptions {
  /** Gradients wanted for these tensors (returned in order; null where unreachable). */
  targets?: readonly Tensor[];
  /** Record the gradient computation itself, for higher-order gradients. */
  createGraph?: boolean;
  /** What happens at leaves that are not targets (default: the current mode, 'accumulate' at top level). */
  leafMode?: LeafMode;
}

/**
 * Back-propagates `seed` (dL/droot) from `root`. Leaves that require grad get `.grad` accumulated
 * (unless leafMode is 'ignore'); gradients of `targets` are returned.
 */
export function runBackward(root: Tensor, seed: Tensor, opts: RunOptions = {}): (Tensor | null)[] {
  const targets = opts.targets ?? [];
  const prevMode = leafMode;
  leafMode = opts.leafMode ?? leafMode;
  try {
    // With createGraph the gradients' own graph must stay alive, so nothing is disposed here: the
    // caller's scope owns those tensors, as PyTorch's graph would.
    const scope = opts.createGraph ? <T>(fn: () => T): T => fn() : tidy;
    return withGradMode(!!opts.createGraph, () =>
      scope(() => {
        const grads = new Map<Tensor, Tensor>();
        const uses = new Map<Tensor, number>(); // how many map entries hold each gradient object
        const protect = new Set<Tensor>([seed]);
        // Gradients of views that are one block of their input (split chunks), joined when the input's turn comes.
        const blocks = new Map<Tensor, BlockGradient[]>();
        const put = (t: Tensor, g: Tensor): void => {
          const old = grads.get(t);
          let next = g;
          if (old) {
            next = add(old, g);
            release(t, old);
          }
          grads.set(t, next);
          uses.set(next, (uses.get(next) ?? 0) + 1);
        };
        const drop = (g: Tensor): void => {
          const n = (uses.get(g) ?? 1) - 1;
          uses.set(g, n);
          if (n === 0 && !protect.has(g) && !opts.createGraph) g.dispose();
        };
        const release = (t: Tensor, g: Tensor): void => {
          grads.delete(t);
          drop(g);
        };
        // Every consumer of t has run by its turn in topological order, so its block gradients are all in.
        const take = (t: Tensor): Tensor | undefined => {
          const parts = blocks.get(t);
          if (parts) {
            blocks.delete(t);
            put(t, scope(() => joinBlockGradients(t, parts)));
            for (const b of parts) drop(b.g);
          }
          return grads.get(t);
        };
        put(root, seed);
        const wanted = new Set(targets);
        for (const t of topoOrder(root)) {
          const g = take(t);
          if (!g) continue;
          const node = t.gradNode;
          const x = node?.inputs[0];
          const block = node && node.op.kind === 'view' && x!.requiresGrad && g.dtype === x!.dtype ? node.op.block?.(node.attrs) : null;
          if (block && !wanted.has(t)) {
            const list = blocks.get(x!) ?? [];
            list.push({ ...block, g });
            blocks.set(x!, list);
            uses.set(g, (uses.get(g) ?? 0) + 1);
            release(t, g);
          } else if (node && !wanted.has(t)) {
            const needsGrad = node.inputs.map((x) => x.requiresGrad);
            // A scope per node frees the rule's temporaries at once, so backward's peak stays near the forward's.
            const inputGrads = scope(() => {
              const dys = node.op.vjp!(g, { inputs: node.inputs, output: t, attrs: node.attrs, needsGrad });
              return node.inputs.map((x, i) => {
                const dy = dys[i];
                if (!needsGrad[i] || !dy) return null;
                const gi = sumToShape(dy, x.shape);
                return gi.dtype !== x.dtype ? cast(gi, x.dtype) : gi;
              });
            });
            node.inputs.forEach((x, i) => {
              const gi = inputGrads[i];
              if (gi) put(x, gi);
            });
            release(t, g);
          } else if (!node && !wanted.has(t) && leafMode === 'accumulate') {
            const prev = t.grad;
            t.grad = keep(prev ? add(prev, g) : g.dtype === t.dtype ? g : cast(g, t.dtype));
            protect.add(t.grad);
            prev?.dispose();
            release(t, g);
          }
        }
        const out = targets.map((t) => take(t) ?? null);
        return out;
      }),
    );
  } finally {
    leafMode = prevMode;
  }
}

/** Checks that a tensor can start backward: it requires grad, and is a scalar unless a seed is given. */
export function seedFor(root: Tensor, gradient: Tensor | undefined, where: string): Tensor {
  if (!root.requiresGrad) {
    throw new Error(`${where}: the output does not require grad; no input that requires grad was used to compute it (did you call requiresGrad_() or run under noGrad?)`);
  }
  if (gradient) {
    if (gradient.rank !== root.rank || gradient.shape.some((d, i) => d !== root.shape[i])) {
      throw new RangeError(`${where}: gradient shape [${gradient.shape.join(',')}] differs from the output's [${root.shape.join(',')}]`);
    }
    return gradient;
  }
  if (root.size !== 1) {
    throw new RangeError(`${where}: the output has shape [${root.shape.join(',')}]; backward from a non-scalar needs an explicit gradient (or reduce it with sum/mean)`);
  }
  return ones(root.shape, { dtype: root.dtype, device: root.device });
}
