// gpu.js statements for the scalar functions whose GPU built-ins (or gpu.js's stand-ins) differ from
// the CPU backend at the edges: NaN through comparisons (GLSL/WGSL max, min and sign drop it), pow with
// C's rules (GPU pow is undefined for negative and zero bases), log1p, tanh and erf accurate near 0
// (gpu.js's log1p is log(1 + x), 0 below 6e-8; GPU tanh/erf lose the small side) and tanh/softplus
// without exp overflow. The same rules as kernels-webgpu's WGSL scalar-functions.ts, in the JavaScript
// subset gpu.js translates; each generator writes `let` statements defining `out` from the expression
// `x`, temporaries named after `out` so that two uses in one kernel do not collide.

/**
 * True where `x` is NaN: neither below 0 nor at or above it. Not `x != x`: gpu.js's WebGPU mode on
 * lavapipe folded that to false (NaN reads as a number), while ordered comparisons with 0 hold.
 */
export const isNanCode = (x: string): string => `(!(${x} < 0.0) && !(${x} >= 0.0))`;

/** The table values that the generators' `inf` and `nan` expressions read (gpu.js writes the literal Infinity as the largest finite float, and has no NaN literal). */
export const SPECIAL_VALUES: readonly number[] = [Infinity, NaN];

/** True where `x` is a number (not NaN). */
const notNanCode = (x: string): string => `(${x} < 0.0 || ${x} >= 0.0)`;

/** `p(z)` by Horner's rule for coefficients c0 + c1 z + ... (full double digits; gpu.js rounds to f32). */
export function horner(z: string, coefficients: readonly number[]): string {
  return coefficients.reduceRight((inner, c, j) => (j === coefficients.length - 1 ? c.toPrecision(17) : `(${c.toPrecision(17)} + ${z} * ${inner})`), '');
}

/** sign: ±1, and x itself for ±0 and NaN (Math.sign's rule; GPU sign gives 0 for NaN). */
export function signCode(x: string, out: string): string {
  return [`let ${out} = ${x};`, `if (${x} > 0.0) { ${out} = 1.0; }`, `if (${x} < 0.0) { ${out} = 0.0 - 1.0; }`].join('\n');
}

/** relu: 0 for x <= 0, x otherwise (NaN passes, as on the CPU and in PyTorch). */
export function reluCode(x: string, out: string): string {
  return [`let ${out} = ${x};`, `if (${x} <= 0.0) { ${out} = 0.0; }`].join('\n');
}

/** clamp to [lo, hi] with the CPU's order (x < lo gives lo, then x > hi gives hi; NaN passes). */
export function clampCode(x: string, lo: string, hi: string, out: string): string {
  return [`let ${out} = ${x};`, `if (${x} > ${hi}) { ${out} = ${hi}; }`, `if (${x} < ${lo}) { ${out} = ${lo}; }`].join('\n');
}

/** Statements making `acc` the larger ('>') or smaller ('<') of itself and `x`; a NaN on either side wins (Math.max/min's rule). */
export function extremeFoldCode(acc: string, x: string, better: '>' | '<'): string {
  return `if (${x} ${better} ${acc} || ${isNanCode(x)}) { ${acc} = ${x}; }`;
}

/** The condition under which argmax/argmin moves to `x` from `best`: x is better, or x is the first NaN. */
export function argBetterCode(x: string, best: string, better: '>' | '<'): string {
  return `${x} ${better} ${best} || (${isNanCode(x)} && ${notNanCode(best)})`;
}

/** 1/(2k+1) for k = 0..7: log1p's atanh series in s² (truncation < 2e-9 relative for |s| <= 1/3). */
const ATANH_SERIES = Array.from({ length: 8 }, (_, k) => 1 / (2 * k + 1));

/** exp, with NaN passed through (SwiftShader's WebGL exp gives +∞ for NaN). */
export function expCode(x: string, out: string): string {
  return [`let ${out} = Math.exp(${x});`, `if (${isNanCode(x)}) { ${out} = ${x}; }`].join('\n');
}

/** log with the CPU's edges: -∞ at 0, NaN below 0 and for NaN (SwiftShader's WebGL log gave -88, 0 and 89). */
export function logCode(x: string, out: string, inf: string, nan: string): string {
  return [
    `let ${out} = Math.log(${x});`,
    `if (${x} == 0.0) { ${out} = 0.0 - ${inf}; }`,
    `if (${x} < 0.0 || ${isNanCode(x)}) { ${out} = ${nan}; }`,
  ].join('\n');
}

/**
 * log(1 + x). For |x| < 0.5, 2·atanh(s) with s = x / (2 + x) as a series: no cancellation, so 1e-8
 * stays 1e-8 (GPU log near 1 is only held to 2^-21 absolute, so log(u)·x/(u - 1) is not enough).
 * Elsewhere log(1 + x) with log's edges (-∞ at -1, NaN below). NaN passes through the series.
 */
export function log1pCode(x: string, out: string, inf: string, nan: string): string {
  const s = `${out}S`;
  const z = `${out}Z`;
  const l = `${out}L`;
  return [
    `let ${s} = ${x} / (2.0 + ${x});`,
    `let ${z} = ${s} * ${s};`,
    `let ${out} = 2.0 * ${s} * ${horner(z, ATANH_SERIES)};`,
    logCode(`(1.0 + ${x})`, l, inf, nan),
    `if (Math.abs(${x}) >= 0.5) { ${out} = ${l}; }`,
  ].join('\n');
}

/**
 * softplus log(1 + e^x): log1p of e^x (accurate however small e^x is), x itself above 20 (no overflow;
 * as on the CPU), NaN passed through (SwiftShader's exp(NaN) is +∞).
 */
export function softplusCode(x: string, out: string, inf: string, nan: string): string {
  const e = `${out}E`;
  return [`let ${e} = Math.exp(${x});`, log1pCode(e, out, inf, nan), `if (${x} > 20.0) { ${out} = ${x}; }`, `if (${isNanCode(x)}) { ${out} = ${x}; }`].join('\n');
}

/** tanh's Taylor coefficients of x, x³, ..., x¹⁷ (truncation < 1e-9 relative for |x| < 0.5). */
const TANH_SERIES = [1, -1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075, -929569 / 638512875, 6404582 / 10854718875];

/**
 * tanh: the Taylor series below |x| = 0.5 (no cancellation near 0), (1 - e)/(1 + e) with e = exp(-2|x|)
 * above (e only underflows: 1 for large |x|, where exp(2x) overflowed into NaN); the sign applied last.
 */
export function tanhCode(x: string, out: string): string {
  const a = `${out}A`;
  const z = `${out}Z`;
  const e = `${out}E`;
  return [
    `let ${a} = Math.abs(${x});`,
    `let ${z} = ${a} * ${a};`,
    `let ${out} = ${a} * ${horner(z, TANH_SERIES)};`,
    `let ${e} = Math.exp(0.0 - 2.0 * ${a});`,
    `if (${a} >= 0.5) { ${out} = (1.0 - ${e}) / (1.0 + ${e}); }`,
    `if (${x} < 0.0) { ${out} = 0.0 - ${out}; }`,
  ].join('\n');
}

/** erf's Taylor coefficients (2/√π)(-1)^k / (k!(2k+1)) of x, x³, ..., x¹¹ (truncation < 3e-8 relative for |x| < 0.5). */
const ERF_SERIES = [1, -1 / 3, 1 / 10, -1 / 42, 1 / 216, -1 / 1320].map((c) => c * 1.1283791670955126);

/**
 * erf: the Taylor series below |x| = 0.5 (Abramowitz & Stegun 7.1.26 cancels there: 6e-8 for 1e-8),
 * A&S 7.1.26 (|error| < 1.5e-7) up to 4, 1 beyond (erf(4) rounds to 1 in f32); NaN passes; sign last.
 */
export function erfCode(x: string, out: string): string {
  const a = `${out}A`;
  const z = `${out}Z`;
  const t = `${out}T`;
  return [
    `let ${a} = Math.abs(${x});`,
    `let ${z} = ${a} * ${a};`,
    `let ${out} = ${a} * ${horner(z, ERF_SERIES)};`,
    `let ${t} = 1.0 / (1.0 + 0.3275911 * ${a});`,
    `if (${a} >= 0.5) { ${out} = 1.0 - ${t} * ${horner(t, [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429])} * Math.exp(0.0 - ${z}); }`,
    `if (${a} >= 4.0) { ${out} = 1.0; }`,
    `if (${x} < 0.0) { ${out} = 0.0 - ${out}; }`,
  ].join('\n');
}

/**
 * a^b with C's rules, as the CPU backend: |a|^b through pow on a non-negative base, the sign of a
 * negative base to an odd integer power, NaN for a finite negative base to a non-integer power,
 * zero bases explicitly (±0 or ±∞ by the sign of a and the parity of b), NaN from NaN, and 1 for
 * a = 1, b = 0 or a = -1 to an infinite power. `inf` and `nan` are expressions holding +∞ and NaN
 * (SPECIAL_VALUES in the kernel's table).
 */
export function powCode(a: string, b: string, out: string, inf: string, nan: string): string {
  const abs = `${out}A`;
  const isInt = `${out}I`;
  const odd = `${out}O`;
  return [
    `let ${abs} = Math.abs(${a});`,
    `let ${isInt} = 0.0;`,
    `if (Math.floor(${b}) == ${b}) { ${isInt} = 1.0; }`,
    // Every f32 at or above 2^24 is even; b/2 is exact, so floor(b/2)·2 == b exactly for even b.
    `let ${odd} = 0.0;`,
    `if (${isInt} > 0.5 && Math.floor(${b} * 0.5) * 2.0 != ${b}) { ${odd} = 1.0; }`,
    `let ${out} = Math.pow(${abs}, ${b});`,
    `if (${b} == 2.0) { ${out} = ${a} * ${a}; }`,
    `if (${a} < 0.0 && ${odd} > 0.5) { ${out} = 0.0 - ${out}; }`,
    `if (${a} < 0.0 && ${isInt} < 0.5 && ${abs} < ${inf}) { ${out} = ${nan}; }`,
    `if (${a} == 0.0 && ${b} > 0.0) { ${out} = 0.0; }`,
    `if (${a} == 0.0 && ${b} > 0.0 && ${odd} > 0.5) { ${out} = ${a}; }`,
    `if (${a} == 0.0 && ${b} < 0.0) { ${out} = ${inf}; }`,
    // 1/±0 is ±∞: the sign of a zero base survives an odd negative power.
    `if (${a} == 0.0 && ${b} < 0.0 && ${odd} > 0.5) { ${out} = 1.0 / ${a}; }`,
    `if (${isNanCode(a)} || ${isNanCode(b)}) { ${out} = ${nan}; }`,
    `if (${a} == 0.0 - 1.0 && Math.abs(${b}) == ${inf}) { ${out} = 1.0; }`,
    `if (${a} == 1.0 || ${b} == 0.0) { ${out} = 1.0; }`,
  ].join('\n');
}
