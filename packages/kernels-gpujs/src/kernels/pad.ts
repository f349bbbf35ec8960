// pad: each output element finds its input coordinate per dim (before, interior steps), or the fill.
import { numel, type PadSpec } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, kernelSource } from '../kernel-source.js';

// Table: output dims at 0; per dim at R + 4d: before, step (interior + 1), input size, input stride;
// then the input offset and the fill value.
const tailAt = MAX_RANK + 4 * MAX_RANK;
const SOURCE = kernelSource(
  1,
  [
    OUTPUT_COORDS,
    `let xi = m[${tailAt}];`,
    'let inside = 1.0;',
    ...Array.from({ length: MAX_RANK }, (_, d) => {
      const at = MAX_RANK + 4 * d;
      return [
        `let u${d} = c${d} - m[${at}];`,
        `let w${d} = Math.floor((u${d} + 0.5) / m[${at + 1}]);`,
        `let st${d} = m[${at + 1}];`,
        `let sz${d} = m[${at + 2}];`,
        `if (u${d} < 0.0 || u${d} - w${d} * st${d} != 0.0 || w${d} >= sz${d}) { inside = 0.0; }`,
        `xi = xi + w${d} * m[${at + 3}];`,
      ].join('\n');
    }),
    `let pv = m[${tailAt + 1}];`,
    'if (inside > 0.5) { pv = x0[xi]; }',
    'return pv;',
  ].join('\n'),
);

/** Pads with `value` before/after each dim and between elements (interior). */
export const padKernel: GpuJsKernel<{ pads: PadSpec[]; value: number }> = (ctx, [x], { pads, value }, out) => {
  const m = new MetaTable();
  m.dims(out.shape, 'pad');
  const lead = MAX_RANK - out.shape.length;
  for (let d = 0; d < MAX_RANK; d++) {
    const i = d - lead;
    if (i < 0) m.push(0, 1, 1, 0);
    else m.push(pads[i]![0], pads[i]![2] + 1, x!.shape[i]!, x!.strides[i]!);
  }
  m.push(x!.offset, value);
  return ctx.run({ source: SOURCE, size: numel(out.shape), args: [handleOf(x!), m.toArray()] });
};
