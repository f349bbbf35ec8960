// concat: each output element reads from the input whose slab along the axis holds it. The source is
// generated per input count (each input is a kernel argument).
import { numel, type TensorView } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, indexCode, kernelSource } from '../kernel-source.js';

const R = MAX_RANK;
const sources = new Map<number, string>();

// Table: output dims at 0, the axis one-hot at R, then per input: layout (R + 1, its axis
// offset folded in) and the slab's end along the axis.
function sourceFor(n: number): string {
  let s = sources.get(n);
  if (s === undefined) {
    const lines = [OUTPUT_COORDS, `let ca = ${Array.from({ length: R }, (_, d) => `c${d} * m[${R + d}]`).join(' + ')};`, 'let cv = 0.0;', 'let done = 0.0;'];
    for (let k = 0; k < n; k++) {
      const at = 2 * R + k * (R + 2);
      // The read happens before the if: gpu.js's GLSL hoisting mistypes reads inside conditions.
      lines.push(indexCode(`i${k}`, at, 'c'), `let end${k} = m[${at + R + 1}];`, `let v${k} = x${k}[i${k}];`, `if (done < 0.5 && ca < end${k}) { cv = v${k}; done = 1.0; }`);
    }
    lines.push('return cv;');
    s = kernelSource(n, lines.join('\n'));
    sources.set(n, s);
  }
  return s;
}

/** Joins the inputs along `axis`. */
export const concatKernel: GpuJsKernel<{ axis: number }> = (ctx, inputs, { axis }, out) => {
  // Empty slabs contribute nothing (and gpu.js cannot take empty arguments).
  const parts: TensorView[] = inputs.filter((v) => v.shape[axis]! > 0);
  const m = new MetaTable();
  m.dims(out.shape, 'concat');
  m.strides(out.shape.map((_, i) => (i === axis ? 1 : 0)), 'concat');
  let start = 0;
  for (const v of parts) {
    // Address the slab with output coordinates: shift the offset back by its start along the axis.
    m.strides(v.strides, 'concat');
    m.push(v.offset - start * v.strides[axis]!);
    start += v.shape[axis]!;
    m.push(start);
  }
  return ctx.run({ source: sourceFor(parts.length), size: numel(out.shape), args: [...parts.map(handleOf), m.toArray()] });
};
