// copy and cast. Storages hold f32 values of any dtype, so a cast maps values into the target dtype's
// set: truncation and wrapping for integers, 0/1 for bool, round-to-nearest-even to f16/bf16 (done
// in-kernel with exact power-of-two scaling, as @tessera/tensor's f32ToF16/f32ToBf16 round).
import type { DType } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';

/** Rounds |v0| to `mantissa` bits with exponents clamped below at `minExp` (subnormals), sign restored. */
function roundFloatSetup(mantissa: number, minExp: number): string {
  return [
    'let ra = Math.abs(v0);',
    'let rr = 0.0;',
    // f32 subnormals count as zero: GPUs may flush them, and log2 of one is not finite there. The
    // test is scaled up by 1e30 because a subnormal literal (2^-126 itself is not) may parse as 0.
    'if (ra * 1.0e30 >= 1.1754944e-8) {',
    '  let re = Math.floor(Math.log2(ra));',
    '  if (Math.pow(2.0, re) > ra) { re = re - 1.0; }',
    '  if (Math.pow(2.0, re + 1.0) <= ra) { re = re + 1.0; }',
    `  re = Math.max(re, ${minExp.toFixed(1)});`,
    `  let rq = Math.pow(2.0, re - ${mantissa.toFixed(1)});`,
    '  let rn = ra / rq;',
    '  let rf = Math.floor(rn);',
    '  let rd = rn - rf;',
    '  if (rd > 0.5) { rf = rf + 1.0; }',
    '  if (rd == 0.5) { if (rf - 2.0 * Math.floor(rf * 0.5) == 1.0) { rf = rf + 1.0; } }',
    '  rr = rf * rq;',
    '}',
    'if (v0 < 0.0) { rr = 0.0 - rr; }',
  ].join('\n');
}

const TRUNC = 'let tr = Math.floor(Math.abs(v0));\nif (v0 < 0.0) { tr = 0.0 - tr; }';

/** [setup, expression] taking a value into `dtype`'s value set. */
function castTo(dtype: DType): readonly [string, string] {
  switch (dtype) {
    case 'f32':
    case 'f64': // f64 is kept at f32 precision: gpu.js has no double type
      return ['', 'v0'];
    case 'f16':
      return [roundFloatSetup(10, -14), 'rr'];
    case 'bf16':
      return [roundFloatSetup(7, -126), 'rr'];
    case 'bool':
      return ['let br = 0.0;\nif (v0 != 0.0) { br = 1.0; }', 'br'];
    case 'u8':
      return [TRUNC, 'tr - Math.floor(tr / 256.0) * 256.0'];
    case 'u32':
      return [TRUNC, 'tr - Math.floor(tr / 4294967296.0) * 4294967296.0'];
    case 'i32':
      return [TRUNC, 'tr'];
  }
}

/** Converts elements to `dtype`. */
export const castKernel: GpuJsKernel<{ dtype: DType }> = (ctx, [x], { dtype }, out) => {
  const [setup, expr] = castTo(dtype);
  return launchMap(ctx, `cast to ${dtype}`, [x!], out.shape, expr, [], setup);
};

/** A contiguous copy of a strided view. */
export const copyKernel: GpuJsKernel = (ctx, [x], _attrs, out) => launchMap(ctx, 'copy', [x!], out.shape, 'v0');
