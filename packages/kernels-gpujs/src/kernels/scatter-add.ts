// scatterAdd (torch.scatter_add) written gather-style, since a gpu.js kernel can only write its own
// element: out[p] = x[p] + Σ_j src[q_j] over the positions q_j of the index line through p (same
// coordinates off the axis, j along it) whose index equals p[axis].
import { numel } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { checkIndexBounds } from '../index-bounds.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, indexCode, kernelSource } from '../kernel-source.js';

// Table: output dims at 0; x's layout at R; index layout (axis stride 0) at 2R+1; src layout (axis
// stride 0) at 3R+2; index dims (axis dim set huge) at 4R+3; then the axis one-hot at 5R+3 and the
// line length, index axis stride, src axis stride at 6R+3.
const R = MAX_RANK;
const tailAt = 6 * R + 3;
const SOURCE = kernelSource(
  3,
  [
    OUTPUT_COORDS,
    indexCode('ix', R, 'c'),
    indexCode('ik', 2 * R + 1, 'c'),
    indexCode('is', 3 * R + 2, 'c'),
    'let inside = 1.0;',
    ...Array.from({ length: R }, (_, d) => `let lim${d} = m[${4 * R + 3 + d}];\nif (c${d} >= lim${d}) { inside = 0.0; }`),
    `let ca = ${Array.from({ length: R }, (_, d) => `c${d} * m[${5 * R + 3 + d}]`).join(' + ')};`,
    'let acc = x0[ix];',
    'if (inside > 0.5) {',
    `for (let j = 0; j < m[${tailAt}]; j++) {`,
    'let jf = j * 1.0;',
    // Reads stay out of if conditions and table reads out of indices: gpu.js's GLSL hoisting turns
    // such a comparison into a float and declares its hoisted index twice.
    `let kidx = ik + jf * m[${tailAt + 1}];`,
    `let sidx = is + jf * m[${tailAt + 2}];`,
    'let kv = x1[kidx];',
    'let sv = x2[sidx];',
    'if (kv == ca) { acc = acc + sv; }',
    '}',
    '}',
    'return acc;',
  ].join('\n'),
);

/** Adds src into a copy of x at the positions `index` gives along `axis`. */
export const scatterAddKernel: GpuJsKernel<{ axis: number }> = (ctx, [x, index, src], { axis }, out) => {
  const m = new MetaTable();
  const what = 'scatterAdd';
  m.dims(out.shape, what);
  m.layout(x!, out.shape, what);
  m.strides(index!.strides.map((s, i) => (i === axis ? 0 : s)), what);
  m.push(index!.offset);
  m.strides(src!.strides.map((s, i) => (i === axis ? 0 : s)), what);
  m.push(src!.offset);
  m.dims(index!.shape.map((d, i) => (i === axis ? 2 ** 24 : d)), what);
  m.strides(out.shape.map((_, i) => (i === axis ? 1 : 0)), what);
  m.push(index!.shape[axis]!, index!.strides[axis]!, src!.strides[axis]!);
  // Out-of-range indices match no output here; index-bounds.ts raises them at the next read or sync.
  checkIndexBounds(ctx, what, index!, axis, out.shape[axis]!);
  return ctx.run({ source: SOURCE, size: numel(out.shape), args: [handleOf(x!), handleOf(index!), handleOf(src!), m.toArray()] });
};
