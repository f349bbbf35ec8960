import { reshape, sum, type Shape, type Tensor } from '@tessera/tensor';

/**
 * Sums a gradient of a broadcast result back to the shape of the input that was broadcast: over new
 * leading dims and over dims where the input had size 1. The one place broadcasting is undone.
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new RangeError(`sumToShape: gradient [${g.shape.join(',')}] has fewer dims than the input [${shape.join(',')}]`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const reduced = axes.length ? sum(g, axes, true) : g;
  return reshape(reduced, shape);
}
