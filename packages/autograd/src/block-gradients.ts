import { add, concat, pad, zeros, type Tensor } from '@tessera/tensor';

/** A gradient that reached one block of a tensor along `axis` (a split chunk, a narrow). */
export interface BlockGradient {
  readonly axis: number;
  readonly start: number;
  readonly size: number;
  readonly g: Tensor;
}

/**
 * The gradient of `x` from the gradients of its blocks. Disjoint blocks along one axis (a fused QKV
 * split) are joined by one concat with zeros for the rows nobody read, as PyTorch's split_backward
 * does; overlapping blocks, or blocks along different axes, are each zero-padded and summed.
 */
export function joinBlockGradients(x: Tensor, blocks: readonly BlockGradient[]): Tensor {
  const axis = blocks[0]!.axis;
  const sorted = [...blocks].sort((a, b) => a.start - b.start);
  const disjoint = sorted.every((b, i) => b.axis === axis && (i === 0 || sorted[i - 1]!.start + sorted[i - 1]!.size <= b.start));
  if (!disjoint) {
    const padded = sorted.map((b) => pad(b.g, x.shape.map((n, i) => (i === b.axis ? [b.start, n - b.start - b.size] : [0, 0]) as [number, number])));
    return padded.reduce((sum, g) => add(sum, g));
  }
  const parts: Tensor[] = [];
  const gap = (size: number): void => {
    const shape = [...x.shape];
    shape[axis] = size;
    parts.push(zeros(shape, { dtype: x.dtype, device: x.device }));
  };
  let at = 0;
  for (const b of sorted) {
    if (b.size === 0) continue;
    if (b.start > at) gap(b.start - at);
    parts.push(b.g);
    at = b.start + b.size;
  }
  if (at < x.shape[axis]! || parts.length === 0) gap(x.shape[axis]! - at);
  return parts.length === 1 ? parts[0]! : concat(parts, axis);
}
