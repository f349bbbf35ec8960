// concat: each output element reads from the input whose slab along the axis holds it. The source is
// generated per input count (each input is a kernel argument).
import { numel, type Shape, type TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from '../gpujs-context.js';
import { handleOf, viewOfHandle, type GpuJsKernel } from '../gpujs-kernel.js';
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

/**
 * The most inputs one launch joins: each is a storage buffer in gpu.js's WebGPU mode, where a stage
 * may bind 8 (with the table and the output), and a texture unit on WebGL (16 at least).
 */
const MAX_PARTS = 6;

/** Joins the inputs along `axis`; more than MAX_PARTS are joined in groups first, then the groups. */
export const concatKernel: GpuJsKernel<{ axis: number }> = (ctx, inputs, { axis }, out) => {
  // Empty slabs contribute nothing (and gpu.js cannot take empty arguments).
  const parts: TensorView[] = inputs.filter((v) => v.shape[axis]! > 0);
  if (parts.length <= MAX_PARTS) return concatParts(ctx, parts, axis, out.shape);
  const groups: Handle[] = [];
  const groupViews: TensorView[] = [];
  for (let i = 0; i < parts.length; i += MAX_PARTS) {
    const group = parts.slice(i, i + MAX_PARTS);
    const shape = out.shape.map((d, k) => (k === axis ? group.reduce((n, v) => n + v.shape[axis]!, 0) : d));
    const handle = concatParts(ctx, group, axis, shape);
    groups.push(handle);
    groupViews.push(viewOfHandle(handle, shape));
  }
  try {
    return concatKernel(ctx, groupViews, { axis }, out);
  } finally {
    for (const handle of groups) ctx.free(handle);
  }
};

/** One launch joining up to MAX_PARTS non-empty inputs into `outShape`. */
function concatParts(ctx: GpuJsContext, parts: readonly TensorView[], axis: number, outShape: Shape): Handle {
  const m = new MetaTable();
  m.dims(outShape, 'concat');
  m.strides(outShape.map((_, i) => (i === axis ? 1 : 0)), 'concat');
  let start = 0;
  for (const v of parts) {
    // Address the slab with output coordinates: shift the offset back by its start along the axis.
    m.strides(v.strides, 'concat');
    m.push(v.offset - start * v.strides[axis]!);
    start += v.shape[axis]!;
    m.push(start);
  }
  return ctx.run({ source: sourceFor(parts.length), size: numel(outShape), args: [...parts.map(handleOf), m.toArray()] });
}
