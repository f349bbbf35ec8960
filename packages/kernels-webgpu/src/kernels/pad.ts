// pad with before/after/interior per dim (XLA's pad): each output element maps back to an input
// element or is the fill value.
import type { DType } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { boxSpan } from '../binding-window.js';
import { runMap } from '../map-dispatch.js';
import { computeType } from '../wgsl/dtype-io.js';
import { extraBase, MAX_RANK, operandBase } from '../wgsl/indexing.js';
import { computeWord } from './full.js';

type PadSpec = [number, number, number];

const E = extraBase(1);

/** A copy of x with `value` around and between elements (split over binding windows like any map kernel). */
export const padKernel: GpuKernel<{ pads: PadSpec[]; value: number }> = (ctx, [x], { pads, value }, out) => {
  const extra = new Array<number>(1 + 3 * MAX_RANK).fill(0);
  extra[0] = computeWord(out.dtype as DType, value);
  pads.forEach(([before, , interior], d) => {
    extra[1 + d] = before;
    extra[1 + MAX_RANK + d] = interior + 1;
    extra[1 + 2 * MAX_RANK + d] = x!.shape[d]!;
  });
  const base = operandBase(0);
  return runMap(ctx, {
    key: `pad:${x!.dtype}`,
    spec: {
      inputs: [x!.dtype],
      out: out.dtype,
      value: `var rem = i;
  var off = p(${base}u);
  for (var d = i32(p(1u)) - 1; d >= 0; d--) {
    let ud = u32(d);
    let c = i32(rem % p(4u + ud));
    rem = rem / p(4u + ud);
    let shifted = c - i32(p(${E + 1}u + ud));
    let step = i32(p(${E + 1 + MAX_RANK}u + ud));
    if (shifted < 0 || shifted % step != 0 || shifted / step >= i32(p(${E + 1 + 2 * MAX_RANK}u + ud))) {
      return bitcast<${computeType(out.dtype)}>(p(${E}u));
    }
    off = off + u32(shifted / step) * p(${base + 1}u + ud);
  }
  return in0(off);`,
    },
    shape: out.shape,
    inputs: [x!],
    extra,
    // Outputs lo .. lo + len - 1 along dim d read input coordinates (c - before) / (interior + 1) that land on one.
    windows: [
      {
        strides: x!.strides,
        reads: (lo, len) => {
          const first: number[] = [];
          const count: number[] = [];
          for (let d = 0; d < lo.length; d++) {
            const [before, , interior] = pads[d]!;
            const step = interior + 1;
            const i0 = Math.max(0, Math.ceil((lo[d]! - before) / step));
            const i1 = Math.min(x!.shape[d]! - 1, Math.floor((lo[d]! + len[d]! - 1 - before) / step));
            if (i1 < i0) return null;
            first.push(i0);
            count.push(i1 - i0 + 1);
          }
          return boxSpan(x!.offset, x!.strides, first, count);
        },
      },
    ],
    where: 'pad',
  });
};
