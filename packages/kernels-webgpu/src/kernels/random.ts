// Philox4x32-10 in WGSL, bit-identical to @tessera/tensor's reference: WGSL has no 64-bit multiply,
// so the high word of each 32x32 product is assembled from 16-bit halves, exactly as random.ts does.
import type { DType, RandomKind, RandomStream, Shape } from '@tessera/tensor';
import type { GpuKernel } from '../gpu-kernel.js';
import { f32Bits, runMap } from '../map-dispatch.js';
import { convertExpr } from '../wgsl/dtype-io.js';
import { extraBase } from '../wgsl/indexing.js';

/** Attributes of the random op. */
export interface RandomAttrs {
  shape: Shape;
  dtype: DType;
  kind: RandomKind;
  stream: RandomStream;
  low: number;
  high: number;
}

const E = extraBase(0);

/** WGSL: Philox4x32-10 of counter (c0, c1, 0, 0) under key (k0, k1). */
export const PHILOX = /* wgsl */ `
fn mulhi(a: u32, b: u32) -> u32 {
  let aH = a >> 16u; let aL = a & 0xffffu; let bH = b >> 16u; let bL = b & 0xffffu;
  let lo = aL * bL; let m1 = aH * bL; let m2 = aL * bH;
  let carry = ((lo >> 16u) + (m1 & 0xffffu) + (m2 & 0xffffu)) >> 16u;
  return aH * bH + (m1 >> 16u) + (m2 >> 16u) + carry;
}
fn philox(c0: u32, c1: u32, k0: u32, k1: u32) -> vec4<u32> {
  var x = vec4<u32>(c0, c1, 0u, 0u);
  var key0 = k0; var key1 = k1;
  for (var r = 0; r < 10; r++) {
    let hi0 = mulhi(0xd2511f53u, x.x); let lo0 = 0xd2511f53u * x.x;
    let hi1 = mulhi(0xcd9e8d57u, x.z); let lo1 = 0xcd9e8d57u * x.z;
    x = vec4<u32>(hi1 ^ x.y ^ key0, lo1, hi0 ^ x.w ^ key1, lo0);
    key0 = key0 + 0x9e3779b9u; key1 = key1 + 0xbb67ae85u;
  }
  return x;
}
fn stream_words(i: u32) -> vec4<u32> {
  let c0 = p(${E}u) + i;
  let c1 = p(${E + 1}u) + select(0u, 1u, c0 < p(${E}u));
  return philox(c0, c1, p(${E + 2}u), p(${E + 3}u));
}
`;

const TWO_32 = 4294967296;

/** Uniform values in [low, high), standard normals, or integers in [low, high), one Philox draw per element. */
export const randomKernel: GpuKernel<RandomAttrs> = (ctx, _inputs, { kind, stream, low, high }, out) => {
  let value: string;
  if (kind === 'int') {
    // floor(w / 2^32 * range) is the high word of w * range.
    value = `let w = stream_words(i); return ${convertExpr(`bitcast<i32>(p(${E + 4}u)) + bitcast<i32>(mulhi(w.x, p(${E + 5}u)))`, 'i32', out.dtype)};`;
  } else if (kind === 'uniform') {
    value = `let w = stream_words(i); return ${convertExpr(`pf(${E + 4}u) + pf(${E + 5}u) * (f32(w.x >> 8u) * 5.960464477539063e-8)`, 'f32', out.dtype)};`;
  } else {
    value = `let w = stream_words(i);
  let u1 = (f32(w.x >> 8u) + 1.0) * 5.960464477539063e-8;
  let u2 = f32(w.y >> 8u) * 5.960464477539063e-8;
  return ${convertExpr('sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2)', 'f32', out.dtype)};`;
  }
  const words = [stream.counter % TWO_32, Math.floor(stream.counter / TWO_32), stream.seed % TWO_32, Math.floor(stream.seed / TWO_32)];
  const extra = kind === 'int' ? [...words, low | 0, (high - low) >>> 0] : [...words, f32Bits(low), f32Bits(high - low)];
  return runMap(ctx, {
    key: `random:${kind}:${out.dtype}`,
    spec: { inputs: [], out: out.dtype, value: `${value}`, functions: PHILOX },
    shape: out.shape,
    inputs: [],
    extra,
    windows: [],
    where: 'random',
  });
};
