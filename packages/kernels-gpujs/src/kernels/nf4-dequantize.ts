// NF4 dequantisation: nibble e of the packed bytes (the even element in the high nibble, as
// bitsandbytes packs) times its block's scale; the 16-entry NF4 code and the 256-entry scale code
// ride in the table. Bytes are unpacked with floor/mod arithmetic (no bit operations in GLSL ES 1.0).
import { NF4_BLOCK, NF4_CODE, NF4_SCALE_BLOCK, numel, type Nf4Attrs } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { kernelSource } from '../kernel-source.js';

// Table: offsets of packed, scalesQ, scales2 at 0..2, the scale offset at 3, NF4 code at 4..19,
// scale code at 20..275.
const SOURCE = kernelSource(
  3,
  [
    'let e = this.thread.x * 1.0;',
    `let block = Math.floor((e + 0.5) / ${NF4_BLOCK.toFixed(1)});`,
    // Indices are plain variables: gpu.js's GLSL hoisting mishandles table reads inside an index.
    'let qi = m[1] + block;',
    'let q = x1[qi];',
    'let ci = 20.0 + q;',
    `let si = m[2] + Math.floor((block + 0.5) / ${NF4_SCALE_BLOCK.toFixed(1)});`,
    'let scale = m[ci] * x2[si] + m[3];',
    'let half = Math.floor((e + 0.5) / 2.0);',
    'let bi = m[0] + half;',
    'let byte = x0[bi];',
    'let hi = Math.floor((byte + 0.5) / 16.0);',
    'let nib = hi;',
    'if (e - half * 2.0 > 0.5) { nib = byte - hi * 16.0; }',
    'let ni = 4.0 + nib;',
    'return m[ni] * scale;',
  ].join('\n'),
);

/** The f32 weight of a packed NF4 tensor. */
export const nf4DequantizeKernel: GpuJsKernel<Nf4Attrs> = (ctx, [packed, scalesQ, scales2], attrs) => {
  const table = Float32Array.from([packed!.offset, scalesQ!.offset, scales2!.offset, attrs.offset, ...NF4_CODE, ...attrs.scaleCode]);
  return ctx.run({ source: SOURCE, size: numel(attrs.shape), args: [handleOf(packed!), handleOf(scalesQ!), handleOf(scales2!), table] });
};
