import { allocTyped, numel, type PadSpec } from '@tessera/tensor';
import { storeFor, type CpuKernel } from '../cpu-kernel.js';
import { denseStrides } from '../strided.js';
import { copyStrided } from './copy.js';

/** Fills the output with `value`, then copies the input onto the lattice left by before/interior padding. */
export const padKernel: CpuKernel<{ pads: PadSpec[]; value: number }> = ([x], { pads, value }, out) => {
  pads.forEach(([before, after, interior], i) => {
    if (before < 0 || after < 0 || interior < 0) {
      throw new RangeError(`pad: pads for dim ${i} are [${before}, ${after}, ${interior}]; the cpu backend needs non-negative counts (use slice to crop)`);
    }
  });
  const dst = allocTyped(out.dtype, numel(out.shape)).fill(storeFor(out.dtype)(value));
  const outStrides = denseStrides(out.shape);
  const offset = pads.reduce((o, [before], i) => o + before * outStrides[i]!, 0);
  copyStrided(x!, dst, outStrides.map((s, i) => s * (pads[i]![2] + 1)), offset);
  return dst;
};
