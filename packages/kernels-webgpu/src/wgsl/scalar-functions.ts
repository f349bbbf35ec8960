// Scalar functions WGSL lacks or gets wrong at the edges, written to match the CPU backend: stable
// sigmoid/softplus/tanh (no exp overflow into NaN), log1p accurate near 0, erf to f32 precision,
// pow with C's sign and edge rules (WGSL's pow is undefined for negative bases).
export const SCALAR_FUNCTIONS = /* wgsl */ `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// Through a var: WGSL rejects NaN and infinity in constant expressions.
fn nan_f32() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn inf_f32() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn softplus_f(x: f32) -> f32 {
  if (x > 20.0) { return x; }
  if (x < -15.0) { return exp(x); }
  return log1p_f(exp(x));
}
fn log1p_f(x: f32) -> f32 {
  // Below |x| = 0.5 log's error bound (Vulkan: 2^-21 absolute on [0.5, 2]) is too much of the value
  // (2e-5 of log1p(0.02)), so 2·atanh(s) with s = x / (2 + x), as a series in s² (as gpu.js's log1p):
  // |s| <= 1/3, and the first dropped term, s^17/17, is below 2e-9 of the value; no cancellation near 0.
  if (abs(x) < 0.5) {
    let s = x / (2.0 + x);
    let z = s * s;
    return 2.0 * s * (1.0 + z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0 + z * (1.0 / 13.0 + z * (1.0 / 15.0))))))));
  }
  let u = 1.0 + x;
  let d = u - 1.0;
  // Where 1 + x is exact (large x, infinity, -1) log(u) is the answer; the quotient first keeps
  // log(u)·x from overflowing.
  if (d == x) { return log(u); }
  return log(u) * (x / d);
}
fn tanh_f(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.5) {
    // Taylor series through x^17 (truncation < 1e-9 relative): (1 - e)/(1 + e) cancels near 0.
    let z = x * x;
    return x * (1.0 + z * (-1.0 / 3.0 + z * (2.0 / 15.0 + z * (-17.0 / 315.0 + z * (62.0 / 2835.0 + z * (-1382.0 / 155925.0 + z * (21844.0 / 6081075.0 + z * (-929569.0 / 638512875.0 + z * (6404582.0 / 10854718875.0)))))))));
  }
  let e = exp(-2.0 * ax);
  let r = (1.0 - e) / (1.0 + e);
  return select(r, -r, x < 0.0);
}
fn sign_f(x: f32) -> f32 {
  if (x > 0.0) { return 1.0; }
  if (x < 0.0) { return -1.0; }
  return x;
}
fn erf_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let ax = abs(x);
  var r: f32;
  if (ax < 0.5) {
    let x2 = ax * ax;
    r = 1.1283791670955126 * ax * (1.0 + x2 * (-1.0 / 3.0 + x2 * (0.1 + x2 * (-1.0 / 42.0 + x2 * (1.0 / 216.0 - x2 / 1320.0)))));
  } else if (ax >= 4.0) {
    r = 1.0;
  } else {
    // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
    let t = 1.0 / (1.0 + 0.3275911 * ax);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    r = 1.0 - poly * exp(-ax * ax);
  }
  return select(r, -r, x < 0.0);
}
fn pow_f(a: f32, b: f32) -> f32 {
  if (a == 1.0 || b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f32(); }
  let bInt = floor(b) == b;
  if (a == 0.0) {
    if (b > 0.0) { return select(0.0, a, bInt && abs(b % 2.0) == 1.0); }
    return select(inf_f32(), 1.0 / a, bInt && abs(b % 2.0) == 1.0);
  }
  if (a < 0.0) {
    let bOdd = bInt && abs(b % 2.0) == 1.0;
    // -infinity: C gives ±infinity for b > 0 and ±0 for b < 0, the sign negative for odd integers.
    if (a < -3.4028234e38) {
      if (b > 0.0) { return select(inf_f32(), a, bOdd); }
      return select(0.0, 1.0 / a, bOdd);
    }
    if (abs(b) > 3.4e38) { return select(select(0.0, inf_f32(), (b > 0.0) == (a < -1.0)), 1.0, a == -1.0); }
    if (!bInt) { return nan_f32(); }
    let m = exp2(b * log2(-a));
    return select(m, -m, bOdd);
  }
  if (b == 2.0) { return a * a; }
  return exp2(b * log2(a));
}
`;
