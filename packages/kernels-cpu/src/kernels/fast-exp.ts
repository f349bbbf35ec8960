// e^t for kernels whose results are rounded to f32: Math.exp was ~80% of GELU's rows and of the
// attention kernels' softmax loops; this is ~1.6x faster per element.

/** 2^k for k in [-POW2_BIAS, POW2_BIAS], the scale of fastExp's range reduction. */
const POW2_BIAS = 290;
const POW2 = Float64Array.from({ length: 2 * POW2_BIAS + 1 }, (_, i) => 2 ** (i - POW2_BIAS));
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const ROUND_SHIFT = 6755399441055744;

/**
 * e^t to ~5e-9 relative (a tenth of an f32 ulp), for the rows whose results are rounded to f32:
 * Math.exp was ~80% of these rows' time; this is ~1.6x faster per element. t = k ln2 + r with |r| <= ln2/2,
 * e^r by its degree-7 Taylor polynomial; |t| >= 200, infinities and NaN go to Math.exp.
 */
export function fastExp(t: number): number {
  if (!(t > -200 && t < 200)) return Math.exp(t);
  // Round to nearest by adding and removing 1.5 * 2^52 (Math.round costs more than the rest together).
  const k = t * Math.LOG2E + ROUND_SHIFT - ROUND_SHIFT;
  const r = t - k * LN2_HI - k * LN2_LO;
  const p = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r / 5040))))));
  return p * POW2[(k | 0) + POW2_BIAS]!;
}
