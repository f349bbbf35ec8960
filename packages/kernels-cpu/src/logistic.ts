// The logistic function and its integral (softplus), evaluated where they cannot overflow.

/** log(1 + e^x) without overflow for large x or loss of precision for very negative x. */
export function softplus(x: number): number {
  if (x > 20) return x;
  if (x < -37) return Math.exp(x); // log1p(e^x) == e^x to double precision here
  return Math.log1p(Math.exp(x));
}

/** 1 / (1 + e^-x), evaluated on the side where the exponential cannot overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
