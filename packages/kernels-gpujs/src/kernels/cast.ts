// copy and cast. Storages hold f32 values of any dtype, so a cast maps values into the target dtype's
// set as the CPU backend's cast does: round-to-nearest-even to f16/bf16 (in-kernel, with exact
// power-of-two scaling, as @tessera/tensor's f32ToF16/f32ToBf16 round; NaN stays NaN, past the largest
// finite value becomes Infinity), truncation toward zero for integers with NaN and ±Infinity giving 0
// and the result wrapped into the dtype's range (u8 modulo 256, i32 into [-2^31, 2^31); u32 into
// [0, 2^32) except that a negative integer down to -2^31 stays negative: 2^32 - 1 has no f32 value,
// while -1 read back into a Uint32Array wraps to it exactly), and nonzero (NaN included) to 1 for bool.
import type { DType } from '@tessera/tensor';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';

/** Rounds |v0| to `mantissa` bits with exponents clamped below at `minExp` (subnormals), sign restored. */
function roundFloatSetup(mantissa: number, minExp: number, maxFinite: number): string {
  return [
    'let ra = Math.abs(v0);',
    // NaN and ±Infinity pass through: both tests below are false for NaN, and only finite values
    // round (log2 of Infinity would make the scaling NaN). The bound is FLT_MAX exactly, in f32 and
    // in f64 (cpu mode), so FLT_MAX itself rounds (to Infinity, as on the CPU).
    'let rr = ra;',
    // f32 subnormals count as zero: GPUs may flush them, and log2 of one is not finite there. The
    // literal is 2^-126 exactly, in f32 and in f64 (cpu mode), so the smallest normal rounds.
    'if (ra < 1.1754943508222875e-38) { rr = 0.0; } else',
    'if (ra <= 3.4028234663852886e38) {',
    '  let re = Math.floor(Math.log2(ra));',
    '  if (Math.pow(2.0, re) > ra) { re = re - 1.0; }',
    '  if (Math.pow(2.0, re + 1.0) <= ra) { re = re + 1.0; }',
    `  re = Math.max(re, ${minExp.toFixed(1)});`,
    // ra scaled to [1, 2) (or below 1 at the clamped exponent) by two normal powers of two: one
    // factor 2^-re would be subnormal (flushed) at re = 127, and the quantum 2^(re - mantissa)
    // itself is subnormal for bf16 below 2^-119, where dividing by it gave NaN on WebGL.
    '  let rh = Math.floor(re * 0.5);',
    '  let rl = re - rh;',
    `  let rn = ra * Math.pow(2.0, 0.0 - rh) * Math.pow(2.0, 0.0 - rl) * ${2 ** mantissa}.0;`,
    '  let rf = Math.floor(rn);',
    '  let rd = rn - rf;',
    '  if (rd > 0.5) { rf = rf + 1.0; }',
    '  if (rd == 0.5) { if (rf - 2.0 * Math.floor(rf * 0.5) == 1.0) { rf = rf + 1.0; } }',
    `  rr = rf * ${1 / 2 ** mantissa} * Math.pow(2.0, rh) * Math.pow(2.0, rl);`,
    // Past the dtype's largest finite value the CPU's rounding gives Infinity (f16 above 65504).
    `  if (rr > ${maxFinite.toExponential()}) { rr = ra * 1.0e30 * 1.0e30; }`,
    '}',
    'if (v0 < 0.0) { rr = 0.0 - rr; }',
  ].join('\n');
}

// Toward zero; NaN and ±Infinity give 0 (the test is false for them), as a typed array stores them.
const TRUNC = 'let tr = 0.0;\nif (Math.abs(v0) <= 3.4028234663852886e38) { tr = Math.floor(Math.abs(v0)); if (v0 < 0.0) { tr = 0.0 - tr; } }';
/** `tr` modulo 2^32 into [0, 2^32): exact in f32 (the residue of an f32 integer beyond 2^31 fits 24 bits). */
const MOD_2_32 = 'tr - Math.floor(tr * 2.3283064365386963e-10) * 4294967296.0';

/** [setup, expression] taking a value into `dtype`'s value set. */
function castTo(dtype: DType): readonly [string, string] {
  switch (dtype) {
    case 'f32':
    case 'f64': // f64 is kept at f32 precision: gpu.js has no double type
      return ['', 'v0'];
    case 'f16':
      return [roundFloatSetup(10, -14, 65504), 'rr'];
    case 'bf16':
      return [roundFloatSetup(7, -126, 3.3895313892515355e38), 'rr'];
    case 'bool':
      // Written as == so that NaN (unequal to everything) gives 1, as the CPU's v !== 0 does.
      return ['let br = 1.0;\nif (v0 == 0.0) { br = 0.0; }', 'br'];
    case 'u8':
      return [TRUNC, 'tr - Math.floor(tr * 0.00390625) * 256.0'];
    case 'u32':
      // Kept when in [-2^31, 2^32): negatives there are read back through a Uint32Array, which wraps.
      return [`${TRUNC}\nlet uw = tr;\nif (tr >= 4294967296.0 || tr < -2147483648.0) { uw = ${MOD_2_32}; }`, 'uw'];
    case 'i32':
      return [`${TRUNC}\nlet iw = tr;\nif (tr >= 2147483648.0 || tr < -2147483648.0) { iw = ${MOD_2_32}; if (iw >= 2147483648.0) { iw = iw - 4294967296.0; } }`, 'iw'];
  }
}

/** Converts elements to `dtype`. */
export const castKernel: GpuJsKernel<{ dtype: DType }> = (ctx, [x], { dtype }, out) => {
  const [setup, expr] = castTo(dtype);
  return launchMap(ctx, `cast to ${dtype}`, [x!], out.shape, expr, [], setup);
};

/** A contiguous copy of a strided view. */
export const copyKernel: GpuJsKernel = (ctx, [x], _attrs, out) => launchMap(ctx, 'copy', [x!], out.shape, 'v0');
